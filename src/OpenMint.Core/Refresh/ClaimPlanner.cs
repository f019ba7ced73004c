namespace OpenMint.Core.Refresh;

/// <summary>
/// The turns of one fair claim. Projects take turns, the least recently served first (a project counts as served when
/// any of its refreshes was); within a project its refreshes take turns the same way. A turn offers a refresh up to
/// <see cref="TokenClaim.TurnSize"/> tokens (and what the claim still has room for). A refresh leaves the rotation when
/// it had fewer tokens than offered or the caller's <see cref="TokenClaim.Budget"/> declined. So a 10-token refresh
/// is served in the first claim after it starts, however many tokens a 30,000-token one still has.
/// </summary>
public sealed class ClaimPlanner
{
    private readonly TokenClaim _claim;
    private readonly Queue<Queue<ClaimCandidate>> _projects;
    private Queue<ClaimCandidate>? _project;
    private int _offered;

    /// <param name="candidates">Refreshes with pending tokens, in any order.</param>
    public ClaimPlanner(IEnumerable<ClaimCandidate> candidates, TokenClaim claim)
    {
        _claim = claim;
        _projects = new Queue<Queue<ClaimCandidate>>(candidates
            .GroupBy(c => c.ProjectId, StringComparer.Ordinal)
            .OrderBy(g => g.Max(c => c.LastServed)).ThenBy(g => g.Min(c => c.Seq))
            .Select(g => new Queue<ClaimCandidate>(g.OrderBy(c => c.LastServed).ThenBy(c => c.Seq))));
        Remaining = claim.Max;
    }

    /// <summary>Tokens the claim still has room for.</summary>
    public int Remaining { get; private set; }

    /// <summary>The next refresh to serve and how many tokens to lease from it; false when the claim is done.</summary>
    public bool TryNextTurn(out ClaimCandidate refresh, out int count)
    {
        while (Remaining > 0 && _projects.TryDequeue(out var project))
        {
            refresh = project.Dequeue();
            var offer = Math.Min(_claim.TurnSize, Remaining);
            count = Math.Clamp(_claim.Budget?.Invoke(refresh, offer) ?? offer, 0, offer);
            if (count > 0)
            {
                _project = project;
                _offered = count;
                return true;
            }
            Requeue(project);
        }
        refresh = null!;
        count = 0;
        return false;
    }

    /// <summary>What the last turn leased: a refresh that filled its turn goes to the back of its project's line.</summary>
    public void Leased(ClaimCandidate refresh, int leased)
    {
        var project = _project ?? throw new InvalidOperationException("Leased without a turn");
        _project = null;
        Remaining -= leased;
        if (leased >= _offered)
        {
            project.Enqueue(refresh);
        }
        Requeue(project);
    }

    private void Requeue(Queue<ClaimCandidate> project)
    {
        if (project.Count > 0)
        {
            _projects.Enqueue(project);
        }
    }
}
