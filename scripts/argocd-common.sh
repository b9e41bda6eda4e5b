# shellcheck shell=bash
# Shared by setup-argocd.sh and apply-argocd-apps.sh (sourced, not run).
# Messages name the script that sourced this file.

prog=${0##*/}
ARGOCD_NAMESPACE="${ARGOCD_NAMESPACE:-openshift-gitops}"
# A Kubernetes name (RFC 1123 label): anything else never reaches a manifest or a command.
NAME_RE='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'

info() { printf '%s: %s\n' "$prog" "$*" >&2; }

die() {
    # die CODE MESSAGE...
    local code=$1
    shift
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit "$code"
}

# The llmops-gate CLI: on PATH, else the package importable by python3.
gate() {
    if command -v llmops-gate >/dev/null 2>&1; then
        llmops-gate "$@"
    elif command -v python3 >/dev/null 2>&1 && python3 -c 'import llmops_gate' 2>/dev/null; then
        python3 -m llmops_gate "$@"
    else
        die 2 "llmops-gate is not installed: pip install llmops-gate (it reads the repo's environments)"
    fi
}

# Stops with a clear message unless `oc` is installed and logged in to a cluster.
require_oc() {
    command -v oc >/dev/null 2>&1 ||
        die 2 "'oc' (the OpenShift CLI) is not on PATH: install it from your cluster's" \
            "Command Line Tools page, or use --dry-run to print the manifests without a cluster"
    local user
    user=$(oc whoami 2>/dev/null) ||
        die 2 "'oc' is not logged in to a cluster: run 'oc login' first (or use --dry-run)"
    info "logged in as $user on $(oc whoami --show-server 2>/dev/null || echo 'the cluster')"
}

# Stops unless the OpenShift GitOps operator is installed (its Application CRD and namespace).
require_gitops_operator() {
    oc get crd applications.argoproj.io >/dev/null 2>&1 ||
        die 1 "the OpenShift GitOps operator is not installed (no applications.argoproj.io CRD):" \
            "install 'Red Hat OpenShift GitOps' from OperatorHub, then run this again"
    oc get namespace "$ARGOCD_NAMESPACE" >/dev/null 2>&1 ||
        die 1 "namespace $ARGOCD_NAMESPACE does not exist: is the OpenShift GitOps operator" \
            "still installing? (oc get csv -n openshift-gitops-operator)"
}

# Reads the repo's environments into the arrays ENV_NAMES and ENV_NAMESPACES.
read_environments() {
    local repo=$1 tsv name namespace _app _overlay
    tsv=$(gate envs "$repo" --format tsv) ||
        die 2 "cannot read the environments of $repo (see the message above)"
    ENV_NAMES=()
    ENV_NAMESPACES=()
    while IFS=$'\t' read -r name namespace _app _overlay; do
        [ -n "$name" ] || continue
        [ "$namespace" != "-" ] ||
            die 2 "environment '$name' has no namespace: set 'namespace:' for it in" \
                "$repo/.llmops-gate.yaml"
        [[ $namespace =~ $NAME_RE ]] ||
            die 2 "environment '$name': '$namespace' is not a valid namespace name"
        ENV_NAMES+=("$name")
        ENV_NAMESPACES+=("$namespace")
    done <<<"$tsv"
    [ "${#ENV_NAMES[@]}" -gt 0 ] || die 2 "$repo: no environment found"
}
