#!/usr/bin/env bash
# Prepare an OpenShift cluster for a GitOps repo made with llmops-gate:
#   1. check that the OpenShift GitOps operator (ArgoCD) is installed;
#   2. create each environment's namespace (from the repo's .llmops-gate.yaml);
#   3. let ArgoCD's application controller manage each of them: a RoleBinding to the
#      `admin` ClusterRole per namespace, never cluster-admin;
#   4. print the ArgoCD URL and how to get the admin password.
# Then run apply-argocd-apps.sh to create the Applications.
set -euo pipefail
here=${BASH_SOURCE[0]%/*}
[ "$here" != "${BASH_SOURCE[0]}" ] || here=.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=argocd-common.sh
. "$here/argocd-common.sh"

usage() {
    cat <<USAGE
usage: $prog [--repo DIR] [--dry-run]

  --repo DIR   the GitOps repo whose .llmops-gate.yaml names the environments (default: .)
  --dry-run    print the manifests to stdout instead of applying them (no cluster needed)

ARGOCD_NAMESPACE (default openshift-gitops) names the namespace of the ArgoCD instance.
USAGE
}

repo=.
dry_run=false
while [ $# -gt 0 ]; do
    case "$1" in
        --repo) [ $# -ge 2 ] || die 2 "--repo needs a folder"; repo=$2; shift 2 ;;
        --repo=*) repo=${1#--repo=}; shift ;;
        --dry-run) dry_run=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die 2 "unknown argument: $1" ;;
    esac
done
[ -d "$repo" ] || die 2 "$repo: not a folder"
[[ $ARGOCD_NAMESPACE =~ $NAME_RE ]] || die 2 "ARGOCD_NAMESPACE '$ARGOCD_NAMESPACE' is not a valid name"
controller_sa="${ARGOCD_NAMESPACE}-argocd-application-controller"

if ! $dry_run; then
    require_oc
    require_gitops_operator
fi
read_environments "$repo"

manifests() {
    local i
    for i in "${!ENV_NAMES[@]}"; do
        cat <<YAML
---
apiVersion: v1
kind: Namespace
metadata:
  name: ${ENV_NAMESPACES[$i]}
  labels:
    app.kubernetes.io/managed-by: llmops-gate
    llmops-gate.io/environment: ${ENV_NAMES[$i]}
---
# ArgoCD's application controller may manage this namespace only: admin, not cluster-admin.
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ${ARGOCD_NAMESPACE}-argocd-admin
  namespace: ${ENV_NAMESPACES[$i]}
  labels:
    app.kubernetes.io/managed-by: llmops-gate
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: admin
subjects:
  - kind: ServiceAccount
    name: ${controller_sa}
    namespace: ${ARGOCD_NAMESPACE}
YAML
    done
}

if $dry_run; then
    info "dry run: the manifests for ${#ENV_NAMES[@]} environment(s) follow; nothing is applied"
    manifests
    exit 0
fi

info "creating namespaces and RoleBindings for: ${ENV_NAMES[*]}"
manifests | oc apply -f - >&2
info "ArgoCD's application controller ($ARGOCD_NAMESPACE/$controller_sa) is admin in:" \
    "${ENV_NAMESPACES[*]}"

host=$(oc get route openshift-gitops-server -n "$ARGOCD_NAMESPACE" \
    -o jsonpath='{.spec.host}' 2>/dev/null || true)
if [ -n "$host" ]; then
    info "ArgoCD: https://$host"
else
    info "ArgoCD: no route openshift-gitops-server in $ARGOCD_NAMESPACE yet (oc get routes -n $ARGOCD_NAMESPACE)"
fi
info "admin password: oc extract secret/openshift-gitops-cluster -n $ARGOCD_NAMESPACE --keys=admin.password --to=-"
info "(or log in with your OpenShift account through 'LOG IN VIA OPENSHIFT')"
info "next: scripts/apply-argocd-apps.sh --repo $repo"
