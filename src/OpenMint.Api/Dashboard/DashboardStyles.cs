namespace OpenMint.Api.Dashboard;

/// <summary>The dashboard's one stylesheet, embedded in each page (no static files to serve, nothing to build).</summary>
internal static class DashboardStyles
{
    public const string Css = """
        :root { --ink: #1d2430; --muted: #687385; --line: #e3e7ee; --bg: #f6f7f9; --card: #fff; --accent: #3b5bdb;
                --ok: #1f7a4d; --ok-bg: #e6f4ec; --bad: #b42318; --bad-bg: #fdecea; --warn: #8a5a00; --warn-bg: #fff4d6; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
        header.top { display: flex; align-items: center; gap: 24px; padding: 0 24px; height: 52px; background: #111827; color: #e5e7eb; }
        header.top a { color: #cbd2dc; text-decoration: none; }
        .brand { font-weight: 700; font-size: 16px; color: #fff !important; white-space: nowrap; }
        .brand span { font-weight: 400; color: #9aa4b2; margin-left: 4px; }
        nav { display: flex; gap: 4px; flex: 1; flex-wrap: wrap; }
        nav a { padding: 6px 10px; border-radius: 6px; }
        nav a:hover { background: #1f2937; }
        nav a.current { background: #374151; color: #fff; }
        form.sign-out { display: flex; align-items: center; gap: 8px; margin: 0; }
        .who { color: #9aa4b2; }
        main { padding: 20px 24px 48px; max-width: 1400px; }
        h1 { font-size: 22px; margin: 4px 0 16px; }
        h2 { font-size: 16px; margin: 28px 0 10px; }
        a { color: var(--accent); }
        table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
        th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; background: #fafbfc; }
        tr:last-child td { border-bottom: 0; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
        small, .muted { color: var(--muted); }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eef0f4; color: var(--muted); }
        .badge.ok { background: var(--ok-bg); color: var(--ok); }
        .badge.bad { background: var(--bad-bg); color: var(--bad); }
        .badge.warn { background: var(--warn-bg); color: var(--warn); }
        .notice { padding: 10px 14px; border-radius: 8px; margin: 0 0 16px; background: var(--warn-bg); color: var(--warn); }
        .notice.ok { background: var(--ok-bg); color: var(--ok); }
        .notice.bad { background: var(--bad-bg); color: var(--bad); }
        tr.notice td { background: var(--warn-bg); color: var(--warn); border-radius: 0; }
        .filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin-bottom: 16px; background: var(--card); padding: 12px; border: 1px solid var(--line); border-radius: 8px; }
        .filters label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
        input, select { font: inherit; padding: 6px 8px; border: 1px solid #cfd5de; border-radius: 6px; background: #fff; min-width: 160px; }
        button { font: inherit; padding: 6px 12px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: #fff; color: var(--bad); border-color: #e7b4ae; }
        button.link { background: none; border: 0; color: #cbd2dc; padding: 0; text-decoration: underline; }
        form.inline { display: inline; margin: 0; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; word-break: break-all; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin-bottom: 18px; }
        .card h2 { margin-top: 0; }
        .secret { font-size: 15px; padding: 10px 12px; background: #f1f3f7; border-radius: 6px; display: block; word-break: break-all; }
        .sign-in { max-width: 420px; margin: 60px auto; }
        .sign-in input { width: 100%; margin: 6px 0 14px; }
        .empty { color: var(--muted); background: var(--card); border: 1px dashed var(--line); border-radius: 8px; padding: 16px; }
        """;
}
