# Sourced by ./test and ./openmint. Each step is idempotent and quick when there is nothing to do.

setup_build() {
  # Rebuild only when sources are newer than the CLI binary.
  local out=src/OpenMint.Cli/bin/Release/net10.0/openmint.dll
  if [[ ! -f "$out" ]] || [[ -n "$(find src Directory.Build.props Directory.Packages.props -newer "$out" -type f -print -quit)" ]]; then
    dotnet build src/OpenMint.Cli/OpenMint.Cli.csproj -c Release -nologo -clp:ErrorsOnly >&2
  fi
}

setup_dev() {
  :
}

setup_all_for_tests() {
  :
}
