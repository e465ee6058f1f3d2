#!/usr/bin/env bash
# Installs code-server (VS Code 1.100 in a browser) into .e2e/code-server for the end-to-end tests,
# without any network but the npm registry: see "Real VS Code in tests" in DESIGN.md.
# Idempotent: a finished install leaves .e2e/code-server/.installed and is reused.
# Needs Debian's ripgrep and libkrb5-dev (and python3, make, g++ for the native modules);
# .ci/run installs them. Runs as root (npm_config_unsafe_perm lets npm's build scripts run as root).
set -euo pipefail

VERSION="${CODE_SERVER_VERSION:-4.100.3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.e2e/code-server"
PKG="$PREFIX/node_modules/code-server"
STAMP="$PREFIX/.installed"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ] && [ -f "$PKG/out/node/entry.js" ]; then
  echo "code-server $VERSION already installed in $PKG"
  exit 0
fi

for tool in rg python3 make g++; do
  command -v "$tool" >/dev/null || { echo "install-code-server: '$tool' is missing (apt-get install ripgrep python3 make g++)" >&2; exit 1; }
done
[ -e /usr/include/gssapi/gssapi.h ] || [ -e /usr/include/krb5.h ] || { echo "install-code-server: libkrb5-dev is missing (apt-get install libkrb5-dev)" >&2; exit 1; }

start=$(date +%s)
export npm_config_unsafe_perm=true
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
# node-pty's install script runs `npx node-gyp ...`: let npx fetch node-gyp without asking.
export npm_config_yes=true
rm -f "$STAMP"
mkdir -p "$PREFIX"
[ -f "$PREFIX/package.json" ] || echo '{ "name": "nabla-e2e-code-server", "private": true }' > "$PREFIX/package.json"

echo "== code-server $VERSION: npm install --ignore-scripts"
# --ignore-scripts: its postinstall would download ripgrep from GitHub and build everything at once.
(cd "$PREFIX" && npm install --no-save --no-package-lock --ignore-scripts "code-server@$VERSION")

echo "== lib/vscode: npm install --omit=dev --ignore-scripts"
(cd "$PKG/lib/vscode" && npm install --omit=dev --ignore-scripts)

echo "== lib/vscode: Debian's ripgrep in place of the downloaded one"
mkdir -p "$PKG/lib/vscode/node_modules/@vscode/ripgrep/bin"
cp "$(command -v rg)" "$PKG/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"

echo "== lib/vscode: build the native modules"
(cd "$PKG/lib/vscode" && npm rebuild node-pty @vscode/spdlog native-watchdog kerberos @vscode/sqlite3 native-keymap)

echo "== code-server: build argon2 from source"
# argon2 is hoisted next to code-server, so rebuild it from the install prefix.
(cd "$PREFIX" && npm rebuild argon2 --build-from-source)

echo "== lib/vscode: node_modules.asar -> node_modules"
ln -sfn node_modules "$PKG/lib/vscode/node_modules.asar"

echo "== lib/vscode/extensions: npm install --omit=dev --ignore-scripts"
(cd "$PKG/lib/vscode/extensions" && npm install --omit=dev --ignore-scripts)

echo "$VERSION" > "$STAMP"
echo "code-server $VERSION installed in $PKG in $(( $(date +%s) - start )) s"
