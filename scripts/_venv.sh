# Shared by scripts/demo and scripts/test: create ./.venv if missing and install drctl with EXTRA into it.
# Re-installs only when pyproject.toml changed since the last install into this venv.
set -euo pipefail
ensure_venv() {
    local extra=$1 py=${PYTHON:-python3} stamp=".venv/.drctl-installed-$1"
    if [ ! -x .venv/bin/python ]; then
        "$py" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extra]"
        touch "$stamp"
    fi
}
