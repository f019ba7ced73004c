# Sourced by ./test and ./openmint. Each step is idempotent and quick when there is nothing to do.
# Progress goes to stderr so that `./openmint ... --json` keeps a clean stdout.

_setup_note() { echo "setup: $*" >&2; }

# Root installs directly; anyone else needs sudo for apt.
_setup_as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    _setup_note "need root for: $* (run it as root, then retry)"; return 1; fi
}

_setup_apt_install() {
  _setup_note "installing $* from apt"
  _setup_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  _setup_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

_setup_hash() { sha256sum "$@" | sha256sum | cut -c1-64; }

# npm ci in $1 when node_modules is absent or the lock changed since the last install.
_setup_npm_ci() {
  local dir="$1" stamp="$1/node_modules/.openmint-lock-hash" want
  command -v npm >/dev/null || _setup_apt_install nodejs npm
  if [[ -f "$dir/package-lock.json" ]]; then want="$(_setup_hash "$dir/package.json" "$dir/package-lock.json")"; else want="$(_setup_hash "$dir/package.json")"; fi
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  _setup_note "npm install in $dir"
  if [[ -f "$dir/package-lock.json" ]]; then
    (cd "$dir" && npm ci --ignore-scripts --no-fund --no-audit --loglevel=error >&2)
  else
    (cd "$dir" && npm install --ignore-scripts --no-fund --no-audit --loglevel=error >&2)
  fi
  echo "$want" >"$stamp"
}

# Anvil, solc-js and the preset sources (tools/chain), then the compiled presets (cached by input hash).
setup_chain() {
  _setup_npm_ci tools/chain
  node tools/chain/compile.mjs
}

setup_build() {
  # Rebuild only when sources are newer than the CLI binary.
  local out=src/OpenMint.Cli/bin/Release/net10.0/openmint.dll
  if [[ ! -f "$out" ]] || [[ -n "$(find src Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune -o -type f -newer "$out" -print -quit)" ]]; then
    _setup_note "building the openmint CLI (Release); the first build takes a minute or two, one line per project"
    dotnet build src/OpenMint.Cli/OpenMint.Cli.csproj -c Release -nologo -v:m -clp:NoSummary >&2
  fi
}

# initdb and postgres refuse to run as root: root runs them as the `postgres` account.
_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

_setup_pick_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

_setup_pg_start() {
  local bin="$1" data="$2" sock="$3" port="$4" log="$5"
  _setup_note "starting PostgreSQL on 127.0.0.1:$port"
  # fsync off: test data is thrown away, and it makes CREATE DATABASE per test class cheap.
  _pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
}

# A private PostgreSQL for the tests: its own data dir, port and socket dir, loopback only, trust auth
# (throwaway data, reachable only from this machine). Reused when already running.
# Exports OPENMINT_TEST_POSTGRES (an Npgsql connection string); a value already set wins.
# OPENMINT_PG_DIR moves it (default /tmp/openmint-pg-<uid>, shared by every checkout of this user).
setup_postgres() {
  if [[ -n "${OPENMINT_TEST_POSTGRES:-}" ]]; then return 0; fi
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    _setup_apt_install postgresql
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  fi
  local base="${OPENMINT_PG_DIR:-/tmp/openmint-pg-$(id -u)}"
  local data="$base/data" sock="$base/sock"
  # A data dir from another PostgreSQL major version cannot be started by this one: start over (test data only).
  if [[ -f "$data/PG_VERSION" && "$(cat "$data/PG_VERSION")" != "$(basename "$(dirname "$bin")")" ]]; then
    _pg "$bin/pg_ctl" -D "$data" stop -m fast >/dev/null 2>&1 || true
    rm -f "$data/PG_VERSION"
  fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    _setup_note "initialising a private PostgreSQL in $base"
    rm -rf "$base"; mkdir -p "$data" "$sock"; chmod 700 "$base"
    [[ "$(id -u)" == 0 ]] && chown -R postgres: "$base"
    _pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # A free port now, kept for later runs.
    _setup_pick_port >"$base/port"
  fi
  local port; port="$(cat "$base/port")"
  if ! _pg "$bin/pg_isready" -q -h "$sock" -p "$port"; then
    # The saved port may have been taken since (another boot): then one retry on a fresh one.
    if ! _setup_pg_start "$bin" "$data" "$sock" "$port" "$base/server.log"; then
      port="$(_setup_pick_port)"; echo "$port" >"$base/port"
      _setup_pg_start "$bin" "$data" "$sock" "$port" "$base/server.log" || { tail -20 "$base/server.log" >&2; return 1; }
    fi
  fi
  if [[ "$(_pg "$bin/psql" -h "$sock" -p "$port" -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='openmint'")" != 1 ]]; then
    _pg "$bin/psql" -q -h "$sock" -p "$port" -U postgres -c "CREATE ROLE openmint LOGIN CREATEDB" -c "CREATE DATABASE openmint OWNER openmint" >&2
  fi
  export OPENMINT_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=openmint;Database=openmint;Pooling=true"
}

# Debian's chromium for the dashboard's browser tests (Playwright drives it; it never downloads a browser).
setup_chromium() {
  if [[ -x /usr/lib/chromium/chromium || -x /usr/bin/chromium || -n "${OPENMINT_CHROMIUM:-}" ]]; then return 0; fi
  _setup_apt_install chromium fonts-dejavu-core  # a font, or screenshots show boxes (recommends are not installed)
}

# Node packages of the JS client tests (tests/js), when that folder exists.
setup_js_tests() {
  if [[ -f tests/js/package.json ]]; then _setup_npm_ci tests/js; fi
}

setup_dev() {
  setup_chain
}

setup_all_for_tests() {
  setup_chain
  setup_js_tests
  setup_postgres
  setup_chromium
}
