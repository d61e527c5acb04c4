#!/usr/bin/env bash
# Checks deploy/k8s without a cluster (CI runs it from the repo root on a fresh clone, as root, with the
# project venv .venv made by .ci/run):
#   1. renders every kustomization (base, overlays/gpu, overlays/cpu) with `kubectl kustomize` or
#      `kustomize build`; without either, checks that each kustomization's resources, components and
#      patches exist and validates the resource files themselves, saying so;
#   2. validates Kubernetes' own kinds against the API schemas of 1.30 (the oldest release these
#      manifests are meant for) and 1.37 with PyPI's kubernetes-validate (--strict: unknown fields fail);
#   3. validates ServiceMonitor and PrometheusRule against the Prometheus Operator's CRD schemas (npm's
#      @kubernetes-models/prometheus-operator); without node/npm that step is skipped, the reason printed;
#   4. policy checks the schemas cannot make (deploy/k8s/tests/manifests.py policy): grace above the
#      drain time, probes, hardening, the GPU limit, selectors and ports, and that every metric and label
#      the alerts, the HPA and the prometheus-adapter rule use is one verifier/metrics.py exports;
#   5. `promtool check rules` and `promtool test rules` on the PrometheusRule's groups
#      (deploy/k8s/tests/alerts_test.yaml).
# Tools go under .venv/tools (ignored by git), installed once, quietly; later runs reuse them. Pins:
#   PyPI  kubernetes-validate==1.37.0 and its dependencies (KV_DEPS below), in a venv of its own,
#         .venv/tools/k8s-validate, so the project's venv keeps exactly pyproject's packages
#   npm   @kubernetes-models/prometheus-operator@6.0.0 (.venv/tools/k8s-crd)
#   promtool: Debian's prometheus package through scripts/fetch_promtool.sh (bookworm: 2.42.0), or
#   $VERIFIER_PROMTOOL, or promtool on PATH.
# A tool that cannot be had (no network) fails the run, unless VERIFIER_DEPLOY_OPTIONAL=1: then the step
# is skipped with its reason and the run passes if everything that could run did.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

KUBERNETES_VALIDATE_VERSION=1.37.0
# Its dependencies, pinned too (pip freeze of the tool venv).
KV_DEPS=(PyYAML==6.0.4 jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0
  rpds-py==2026.9.1 attrs==26.1.0 importlib_resources==7.1.0 packaging==26.4 typing_extensions==4.16.0)
CRD_MODELS_VERSION=6.0.0
K8S_VERSIONS=(1.30.0 1.37.0)
VARIANTS=(base overlays/gpu overlays/cpu)
K8S=deploy/k8s
HELPER=$K8S/tests/manifests.py
TOOLS=.venv/tools
KV_VENV=$TOOLS/k8s-validate
CRD_DIR=$TOOLS/k8s-crd
OPTIONAL=${VERIFIER_DEPLOY_OPTIONAL:-0}

start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
skipped=()
say() { echo "check_deploy: $*"; }
# A step that cannot run (unavailable STEP REASON...): fatal unless VERIFIER_DEPLOY_OPTIONAL=1.
unavailable() {
  local step=$1
  shift
  if [ "$OPTIONAL" = 1 ]; then
    say "SKIPPED $step: $* (VERIFIER_DEPLOY_OPTIONAL=1)"
    skipped+=("$step")
  else
    say "FAILED: $step: $* (VERIFIER_DEPLOY_OPTIONAL=1 skips what cannot be installed)" >&2
    exit 1
  fi
}
# Runs a command quietly; on failure prints its output and returns its status.
quietly() {
  local log=$tmp/quiet.log rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then tail -n 30 "$log" >&2; fi
  return "$rc"
}

if [ ! -x .venv/bin/python ]; then
  say "no project venv at .venv (scripts/test or .ci/run makes it)" >&2
  exit 1
fi
mkdir -p "$TOOLS"

# ---------------------------------------------------------------- tools: kubernetes-validate, PyYAML
kv_ok() { [ "$("$KV_VENV/bin/kubernetes-validate" --version 2>/dev/null || true)" = "$KUBERNETES_VALIDATE_VERSION" ]; }
if ! kv_ok; then
  rm -rf "$KV_VENV"
  if quietly .venv/bin/python -m venv "$KV_VENV" \
    && quietly "$KV_VENV/bin/pip" install -q --disable-pip-version-check \
      "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "${KV_DEPS[@]}" && kv_ok; then
    say "installed kubernetes-validate $KUBERNETES_VALIDATE_VERSION in $KV_VENV"
  else
    rm -rf "$KV_VENV"
    # Without it there is no PyYAML either: nothing below can run.
    say "FAILED: could not install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION from PyPI" >&2
    if [ "$OPTIONAL" = 1 ]; then
      say "SKIPPED everything (VERIFIER_DEPLOY_OPTIONAL=1)"
      exit 0
    fi
    exit 1
  fi
fi
PY=$KV_VENV/bin/python

# --------------------------------------------------------- tools: CRD schemas (npm), best effort
crd_models=$CRD_DIR/node_modules/@kubernetes-models/prometheus-operator
crd_ok() {
  [ -f "$crd_models/package.json" ] \
    && [ "$(node -p "require('./$crd_models/package.json').version" 2>/dev/null || true)" = "$CRD_MODELS_VERSION" ]
}
crd_reason=""
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  crd_reason="node and npm are not installed (apt-get install nodejs npm)"
elif ! crd_ok; then
  rm -rf "$CRD_DIR"
  mkdir -p "$CRD_DIR"
  if quietly npm install --prefix "$CRD_DIR" --no-audit --no-fund --no-package-lock --loglevel=error \
    "@kubernetes-models/prometheus-operator@$CRD_MODELS_VERSION" && crd_ok; then
    say "installed @kubernetes-models/prometheus-operator $CRD_MODELS_VERSION in $CRD_DIR"
  else
    rm -rf "$CRD_DIR"
    crd_reason="npm could not install @kubernetes-models/prometheus-operator@$CRD_MODELS_VERSION"
  fi
fi

# -------------------------------------------------------------------------------- tools: promtool
find_promtool() {
  if [ -n "${VERIFIER_PROMTOOL:-}" ] && [ -x "$VERIFIER_PROMTOOL" ]; then
    echo "$VERIFIER_PROMTOOL"
  elif [ -x "$TOOLS/promtool" ]; then
    echo "$TOOLS/promtool"
  elif command -v promtool >/dev/null 2>&1; then
    command -v promtool
  fi
}
promtool=$(find_promtool)
if [ -z "$promtool" ]; then
  quietly bash scripts/fetch_promtool.sh || true
  promtool=$(find_promtool)
fi
if [ -z "$promtool" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # A fresh machine may have no package lists yet: fetch_promtool.sh's apt-get download needs them.
  quietly apt-get update -qq || true
  quietly bash scripts/fetch_promtool.sh || true
  promtool=$(find_promtool)
fi

# ---------------------------------------------------------------------------------- 1. render
"$PY" "$HELPER" kustomizations "$K8S" >"$tmp/resource-files"
say "kustomizations: every resource, component and patch exists"
render=""
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  render="kubectl kustomize"
elif command -v kustomize >/dev/null 2>&1; then
  render="kustomize build"
fi
rendered=()
if [ -n "$render" ]; then
  for v in "${VARIANTS[@]}"; do
    out=$tmp/$(basename "$v").yaml
    $render "$K8S/$v" >"$out"
    rendered+=("$out")
  done
  say "rendered ${VARIANTS[*]} with $render"
else
  say "no kustomize (neither kubectl kustomize nor kustomize): validating the resource files as they are," \
    "and the policy checks on the base only"
  mapfile -t files <"$tmp/resource-files"
  for f in "${files[@]}"; do
    cat "$f"
    echo "---"
  done >"$tmp/base.yaml"
  VARIANTS=(base)
  rendered=("$tmp/base.yaml")
fi

# ------------------------------------------------------------------- 2. Kubernetes API schemas
for out in "${rendered[@]}"; do
  name=$(basename "$out" .yaml)
  "$PY" "$HELPER" split "$tmp/$name.builtin.yaml" "$tmp/$name.crd.json" "$out" | sed "s/^/check_deploy: $name: /"
  for k in "${K8S_VERSIONS[@]}"; do
    "$KV_VENV/bin/kubernetes-validate" --strict --quiet -k "$k" "$tmp/$name.builtin.yaml"
  done
done
say "Kubernetes API schemas (${K8S_VERSIONS[*]}, strict): every object of ${VARIANTS[*]} valid"

# ------------------------------------------------------------------------------ 3. CRD schemas
if [ -z "$crd_reason" ]; then
  for out in "${rendered[@]}"; do
    name=$(basename "$out" .yaml)
    node "$K8S/tests/validate_crds.mjs" "$CRD_DIR/node_modules" "$tmp/$name.crd.json" | sed "s/^/check_deploy: $name: /"
  done
else
  say "SKIPPED the ServiceMonitor and PrometheusRule schemas: $crd_reason"
  skipped+=("CRD schemas")
fi

# ------------------------------------------------------------------------------- 4. policy
.venv/bin/python "$HELPER" metrics "$tmp/metrics.json"
for out in "${rendered[@]}"; do
  name=$(basename "$out" .yaml)
  "$PY" "$HELPER" policy "$name" "$tmp/metrics.json" "$out" "$K8S/prometheus-adapter/rules.yaml" \
    | sed "s/^/check_deploy: /"
done

# ----------------------------------------------------------------------------- 5. promtool
if [ -n "$promtool" ]; then
  mkdir -p "$tmp/rules"
  "$PY" "$HELPER" rules "$K8S/base/prometheusrule.yaml" "$K8S/tests/alerts_test.yaml" "$tmp/rules/rules.yaml"
  cp "$K8S/tests/alerts_test.yaml" "$tmp/rules/"
  quietly "$promtool" check rules "$tmp/rules/rules.yaml" || exit 1
  "$promtool" test rules "$tmp/rules/alerts_test.yaml" 2>&1 | sed "/^ *$/d; s/^/check_deploy: promtool: /"
  say "promtool ($("$promtool" --version 2>&1 | head -1 | awk '{print $3}')): rules check, alert tests pass"
else
  unavailable "promtool tests" "promtool not found, and Debian's prometheus package could not be fetched" \
    "(scripts/fetch_promtool.sh; or set VERIFIER_PROMTOOL)"
fi

if [ ${#skipped[@]} -gt 0 ]; then
  say "passed, with steps skipped: $(IFS=,; echo "${skipped[*]}") ($((SECONDS - start)) s)"
else
  say "passed ($((SECONDS - start)) s)"
fi
