#!/usr/bin/env bash
# Create or update the ArgoCD Applications of a GitOps repo made with llmops-gate, pointed at
# the Git URL and revision ArgoCD should watch. Run setup-argocd.sh first.
set -euo pipefail
here=${BASH_SOURCE[0]%/*}
[ "$here" != "${BASH_SOURCE[0]}" ] || here=.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=argocd-common.sh
. "$here/argocd-common.sh"

usage() {
    cat <<USAGE
usage: $prog [--repo DIR] [--repo-url URL] [--revision REV] [--env NAME]... [--dry-run]

  --repo DIR       the GitOps repo holding the Applications (default: .)
  --repo-url URL   Git URL ArgoCD watches (default: the repo's 'origin' remote)
  --revision REV   branch, tag or commit it follows (default: the current branch)
  --env NAME       only this environment's Application (repeatable)
  --dry-run        print the Applications to stdout instead of applying them (no cluster needed)

ARGOCD_NAMESPACE (default openshift-gitops) names the namespace of the ArgoCD instance; the
Applications are written into it (metadata.namespace) and applied there.
USAGE
}

repo=.
repo_url=
revision=
dry_run=false
env_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --repo) [ $# -ge 2 ] || die 2 "--repo needs a folder"; repo=$2; shift 2 ;;
        --repo=*) repo=${1#--repo=}; shift ;;
        --repo-url) [ $# -ge 2 ] || die 2 "--repo-url needs a URL"; repo_url=$2; shift 2 ;;
        --repo-url=*) repo_url=${1#--repo-url=}; shift ;;
        --revision) [ $# -ge 2 ] || die 2 "--revision needs a value"; revision=$2; shift 2 ;;
        --revision=*) revision=${1#--revision=}; shift ;;
        --env) [ $# -ge 2 ] || die 2 "--env needs a name"; env_args+=(--env "$2"); shift 2 ;;
        --env=*) env_args+=(--env "${1#--env=}"); shift ;;
        --dry-run) dry_run=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die 2 "unknown argument: $1" ;;
    esac
done
[ -d "$repo" ] || die 2 "$repo: not a folder"
[[ $ARGOCD_NAMESPACE =~ $NAME_RE ]] || die 2 "ARGOCD_NAMESPACE '$ARGOCD_NAMESPACE' is not a valid name"

if ! $dry_run; then
    require_oc
    require_gitops_operator
fi

# Defaults from the repo's Git checkout, when it is one.
if [ -z "$repo_url" ] && command -v git >/dev/null 2>&1; then
    repo_url=$(git -C "$repo" remote get-url origin 2>/dev/null || true)
fi
if [ -z "$revision" ] && command -v git >/dev/null 2>&1; then
    revision=$(git -C "$repo" symbolic-ref --quiet --short HEAD 2>/dev/null || true)
fi
args=(--namespace "$ARGOCD_NAMESPACE")
info "namespace: $ARGOCD_NAMESPACE"
if [ -n "$repo_url" ]; then
    args+=(--repo-url "$repo_url")
    info "repoURL: $repo_url"
else
    info "repoURL: as written in the Applications (no --repo-url and no 'origin' remote)"
fi
if [ -n "$revision" ]; then
    args+=(--revision "$revision")
    info "targetRevision: $revision"
fi

apps=$(gate argocd-apps "$repo" "${args[@]}" ${env_args[@]+"${env_args[@]}"}) ||
    die 2 "cannot read the Applications of $repo (see the message above)"

if $dry_run; then
    info "dry run: the Applications follow; nothing is applied"
    printf '%s\n' "$apps"
    exit 0
fi
printf '%s\n' "$apps" | oc apply -n "$ARGOCD_NAMESPACE" -f - >&2
info "applied; watch them with: oc get applications -n $ARGOCD_NAMESPACE"
