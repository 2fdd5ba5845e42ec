#!/bin/sh
# cascade-prestop: the Kubernetes preStop hook of a Cascade member (deploy/kubernetes/statefulset.yaml),
# installed in the image as /usr/local/bin/cascade-prestop. Kubernetes runs it before SIGTERM.
#
# A static member (CASCADE_INSTANCE_ID = the pod name) keeps its partitions for
# session.timeout.ms when it stops, so that a restart moves none. When the member is being
# scaled in it will not come back, and its partitions should move at once. This tells the two
# apart: it reads the StatefulSet's spec.replicas from the API server, and if this pod's
# ordinal is not below it, touches CASCADE_LEAVE_GROUP_FILE, which makes `cascade consume`
# leave the group when it drains. Otherwise it removes that file (left from an earlier stop).
#
# On any failure (no curl, no token, API server slow or refusing, an answer it cannot read) it
# does nothing and exits 0: the partitions then move after the session timeout. Never lost.
#
# Environment: POD_NAME (<statefulset>-<ordinal>, from the downward API), CASCADE_LEAVE_GROUP_FILE
# (default /run/cascade/leave-group); for tests: CASCADE_SA_DIR (the service-account mount),
# CASCADE_API_SERVER (default https://kubernetes.default.svc), CASCADE_PRESTOP_LOG (default
# /proc/1/fd/2, see say()).

leave_file=${CASCADE_LEAVE_GROUP_FILE:-/run/cascade/leave-group}
sa_dir=${CASCADE_SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
api=${CASCADE_API_SERVER:-https://kubernetes.default.svc}
log=${CASCADE_PRESTOP_LOG:-/proc/1/fd/2}

# One JSON line, like the member's own log lines, into the member's log: the kubelet keeps a
# hook's output only when the hook fails, which this one never does, so it writes to the
# standard error of the container's main process (PID 1, `cascade`) when it may.
say() {
    detail=$(printf '%s' "$*" | sed 's/\\/\\\\/g; s/"/\\"/g')
    line=$(printf '{"ts":"%s","level":"info","msg":"cascade-prestop","detail":"%s"}' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$detail")
    if [ -w "$log" ] && [ "$$" != 1 ]; then
        { printf '%s\n' "$line" >>"$log"; } 2>/dev/null || printf '%s\n' "$line" >&2
    else
        printf '%s\n' "$line" >&2
    fi
}

pod=${POD_NAME:-$(hostname 2>/dev/null)}
ordinal=${pod##*-}
statefulset=${pod%-*}
case $ordinal in
    '' | *[!0-9]*) say "pod name '$pod' has no ordinal; staying in the group"; exit 0 ;;
esac
if [ -z "$statefulset" ] || [ "$statefulset" = "$pod" ]; then
    say "pod name '$pod' names no StatefulSet; staying in the group"; exit 0
fi

if ! command -v curl >/dev/null 2>&1; then say "curl is missing"; exit 0; fi
if ! [ -r "$sa_dir/token" ] || ! [ -r "$sa_dir/ca.crt" ] || ! [ -r "$sa_dir/namespace" ]; then
    say "no service-account token in $sa_dir"; exit 0
fi
namespace=$(cat "$sa_dir/namespace") || exit 0
token=$(cat "$sa_dir/token") || exit 0

# The token goes to curl on standard input (-H @-), not on its command line, where any process
# in the pod could read it.
body=$(printf 'Authorization: Bearer %s\n' "$token" |
    curl --silent --show-error --fail --max-time 3 --cacert "$sa_dir/ca.crt" -H @- \
        -H 'Accept: application/json' \
        "$api/apis/apps/v1/namespaces/$namespace/statefulsets/$statefulset/scale") || {
    say "could not read the scale of statefulset $statefulset; staying in the group"; exit 0
}

# The answer is a Scale: {"kind":"Scale",...,"spec":{"replicas":3},"status":{...}}, compact or
# indented. spec holds no nested object, so its body is everything up to the next '}'. spec
# omits replicas when it is 0 (omitempty): a Scale whose spec has none is scaled to zero.
flat=$(printf '%s' "$body" | tr -d '\n\r')
case $flat in
    *'"kind"'*:*'"Scale"'*) ;;
    *) say "the answer is not a Scale; staying in the group"; exit 0 ;;
esac
spec=$(printf '%s' "$flat" | sed -n 's/.*"spec"[[:space:]]*:[[:space:]]*\({[^}]*}\).*/\1/p')
if [ -z "$spec" ]; then say "cannot find the Scale's spec; staying in the group"; exit 0; fi
replicas=$(printf '%s' "$spec" | sed -n 's/.*"replicas"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p')
if [ -z "$replicas" ]; then
    case $spec in
        *'"replicas"'*) say "cannot read spec.replicas; staying in the group"; exit 0 ;;
        *) replicas=0 ;;
    esac
fi

if [ "$ordinal" -ge "$replicas" ]; then
    if : >"$leave_file" 2>/dev/null; then
        say "$pod: ordinal $ordinal >= replicas $replicas, scaled in: leaving the group"
    else
        say "cannot write $leave_file; staying in the group"
    fi
else
    rm -f "$leave_file" 2>/dev/null
    say "$pod: ordinal $ordinal < replicas $replicas, a restart: keeping the partitions"
fi
exit 0
