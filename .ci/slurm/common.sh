# shellcheck shell=bash disable=SC2034  # (sourced: its variables are used by the scripts that source it)
# Shared by start, stop and status (sourced, not run). The cluster lives in one folder, $XSTILTS_SLURM_DIR
# (default /tmp/xstilts-slurm): its slurm.conf, munge socket, state, logs, PID files and bin/sacct.
SLURM_DIR=${XSTILTS_SLURM_DIR:-/tmp/xstilts-slurm}
CTLD_PORT=${XSTILTS_SLURM_PORT:-16817}
SLURMD_PORT=$((CTLD_PORT + 1))
NODE=xstilts
export SLURM_CONF=$SLURM_DIR/slurm.conf
DAEMONS=(munged slurmctld slurmd)

say() { echo "slurm: $*"; }
fail() { echo "slurm: $*" >&2; exit 1; }

pid_file() {
    case "$1" in
        munged) echo "$SLURM_DIR/munge/munged.pid" ;;
        *) echo "$SLURM_DIR/run/$1.pid" ;;
    esac
}

# The PID of a daemon this folder's start started, if it is still that daemon (its PID file names a live
# process with the daemon's name: a reused PID is not ours).
running_pid() {
    local file pid
    file=$(pid_file "$1")
    [ -r "$file" ] || return 1
    pid=$(tr -dc 0-9 < "$file")
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$1" ] || return 1
    echo "$pid"
}

node_state() { sinfo --noheader --nodes="$NODE" --format=%T 2>/dev/null | head -n1; }
