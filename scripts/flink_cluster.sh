#!/usr/bin/env bash
# A real Flink 1.19 session cluster on localhost, for running the executors' Beam pipelines on
# Flink: a JobManager, N TaskManagers (separate JVMs) and Beam's Flink job server. Each
# TaskManager starts the Python side itself (PROCESS environment: scripts/beam_sdk_worker.sh,
# this project's .venv); `args` prints the beam_pipeline_args that say so.
#
#   scripts/flink_cluster.sh start [TASKMANAGERS]   # default 2; waits until all are registered
#   scripts/flink_cluster.sh add-taskmanager        # one more (e.g. after one was killed)
#   scripts/flink_cluster.sh status                 # what runs, and the Flink jobs
#   scripts/flink_cluster.sh args                   # the beam_pipeline_args that use this cluster
#   scripts/flink_cluster.sh stop
#
# Downloads (once, cached in $PIPELINEKIT_FLINK_CACHE, default ~/.cache/pipelinekit/flink):
# Flink's distribution from PyPI (apache-flink-libraries: lib/; the apache-flink wheel: bin/,
# conf/; neither is installed), and Beam's Flink runner with its dependencies from Maven Central,
# shaded by Maven into one job-server jar. Ports: FLINK_REST_PORT (8081), BEAM_JOB_PORT (8099).
# Memory: FLINK_JM_MEMORY (1200m), FLINK_TM_MEMORY (1280m) per JVM.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PIPELINEKIT_FLINK_CACHE:-$HOME/.cache/pipelinekit/flink}"
RUN="${PIPELINEKIT_FLINK_RUN:-$CACHE/run}"
FLINK_VERSION=1.19.1
BEAM_RUNNER_VERSION=2.62.0 # the oldest beam-runners-flink-1.19 on Maven Central; speaks 2.61's portability API
FLINK_HOME="$CACHE/flink-$FLINK_VERSION"
JOB_SERVER_JAR="$CACHE/jobserver/target/flink-job-server-$BEAM_RUNNER_VERSION.jar"
REST_PORT="${FLINK_REST_PORT:-8081}"
JOB_PORT="${BEAM_JOB_PORT:-8099}"
PYTHON="${PIPELINEKIT_PYTHON:-$ROOT/.venv/bin/python}"

log() { echo "flink_cluster: $*" >&2; }
die() { log "$*"; exit 1; }

assemble_flink() {
    [ -x "$FLINK_HOME/bin/jobmanager.sh" ] && [ -f "$FLINK_HOME/lib/flink-dist-$FLINK_VERSION.jar" ] && return
    log "assembling Flink $FLINK_VERSION in $FLINK_HOME (downloads once from PyPI)"
    local pypi="$CACHE/pypi" work
    mkdir -p "$pypi"
    [ -f "$pypi/apache-flink-libraries-$FLINK_VERSION.tar.gz" ] || python3 -m pip download -q --no-deps --no-binary :all: \
        "apache-flink-libraries==$FLINK_VERSION" -d "$pypi"
    ls "$pypi"/apache_flink-"$FLINK_VERSION"-*.whl >/dev/null 2>&1 || python3 -m pip download -q --no-deps --only-binary :all: \
        --python-version 3.11 --platform manylinux2014_x86_64 "apache-flink==$FLINK_VERSION" -d "$pypi"
    work="$(mktemp -d "$CACHE/assemble.XXXXXX")"
    tar xzf "$pypi/apache-flink-libraries-$FLINK_VERSION.tar.gz" -C "$work" "apache-flink-libraries-$FLINK_VERSION/deps"
    python3 -m zipfile -e "$(ls "$pypi"/apache_flink-"$FLINK_VERSION"-*.whl | head -1)" "$work/wheel"
    mkdir -p "$work/home"
    mv "$work/apache-flink-libraries-$FLINK_VERSION/deps/lib" "$work/home/lib"
    mv "$work/wheel/pyflink/bin" "$work/home/bin"
    mv "$work/wheel/pyflink/conf" "$work/home/conf"
    cp "$work/apache-flink-libraries-$FLINK_VERSION/deps/bin/bash-java-utils.jar" "$work/home/bin/"
    chmod +x "$work/home/bin/"*.sh "$work/home/bin/flink"
    rm -rf "$FLINK_HOME" && mv "$work/home" "$FLINK_HOME" && rm -rf "$work"
}

build_job_server() {
    [ -f "$JOB_SERVER_JAR" ] && return
    log "building Beam's Flink job server jar with Maven (downloads once from Maven Central)"
    command -v mvn >/dev/null || die "Maven (mvn) is needed once to fetch Beam's Flink runner; install it (apt-get install maven)"
    mkdir -p "$CACHE/jobserver"
    sed "s/@BEAM_RUNNER_VERSION@/$BEAM_RUNNER_VERSION/g" "$ROOT/scripts/flink_job_server.pom.xml" >"$CACHE/jobserver/pom.xml"
    (cd "$CACHE/jobserver" && mvn -B -q package) || die "Maven could not build the job server jar (see the output above)"
}

write_conf() {
    mkdir -p "$RUN/conf" "$RUN/log" "$RUN/pid" "$RUN/tmp"
    cp "$FLINK_HOME/conf/log4j.properties" "$FLINK_HOME/conf/log4j-console.properties" "$RUN/conf/"
    local java_opts
    java_opts="$(sed -n 's/^ *all: *\(--add-.*\)$/\1/p' "$FLINK_HOME/conf/config.yaml" | head -1)"
    [ -n "$java_opts" ] || die "Flink's conf/config.yaml has no env.java.opts.all (needed on Java 17)"
    cat >"$RUN/conf/config.yaml" <<EOF
env:
  java:
    opts:
      all: $java_opts
  pid:
    dir: $RUN/pid
  log:
    dir: $RUN/log
io:
  tmp:
    dirs: $RUN/tmp
jobmanager:
  bind-host: localhost
  rpc:
    address: localhost
    port: 6123
  memory:
    process:
      size: ${FLINK_JM_MEMORY:-1200m}
  execution:
    failover-strategy: region
taskmanager:
  bind-host: localhost
  host: localhost
  numberOfTaskSlots: ${FLINK_TM_SLOTS:-1}
  memory:
    process:
      size: ${FLINK_TM_MEMORY:-1280m}
    managed:
      fraction: 0.1
    network:
      min: 128mb
      max: 128mb
  network:
    sort-shuffle:
      # hash-based blocking shuffle up to this parallelism: sort-shuffle reserves 512 buffers
      # per result partition, more than a small TaskManager has for Transform's ~60 of them
      min-parallelism: 1024
restart-strategy:
  type: none
parallelism:
  default: 1
rest:
  address: localhost
  bind-address: localhost
  port: $REST_PORT
EOF
}

rest() { curl -sf --max-time 3 "http://localhost:$REST_PORT$1"; }

registered_taskmanagers() {
    rest /taskmanagers 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["taskmanagers"]))' 2>/dev/null || echo 0
}

port_open() { python3 -c "import socket,sys; socket.create_connection(('localhost', int(sys.argv[1])), 1)" "$1" 2>/dev/null; }

wait_for() { # seconds, description, command...
    local seconds="$1" what="$2"
    shift 2
    for _ in $(seq 1 $((seconds * 2))); do
        "$@" && return 0
        sleep 0.5
    done
    die "$what did not come up within ${seconds}s; logs: $RUN/log"
}

launch() { # name, command...: run it in the background, its output in log/NAME.log, its pid in pid/NAME.pid
    local name="$1"
    shift
    nohup "$@" >"$RUN/log/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/pid/$name.pid"
}

start() {
    local taskmanagers="${1:-2}"
    [[ "$taskmanagers" =~ ^[1-9][0-9]*$ ]] || die "start takes a number of TaskManagers (at least 1), got '$taskmanagers'"
    command -v java >/dev/null || die "Java (17) is needed: apt-get install openjdk-17-jre-headless"
    [ -x "$PYTHON" ] || die "$PYTHON not found: run scripts/bootstrap.sh first (the SDK workers use the project's venv)"
    if port_open "$REST_PORT"; then
        die "something already listens on localhost:$REST_PORT; run '$0 stop' first (or set FLINK_REST_PORT)"
    fi
    assemble_flink
    build_job_server
    write_conf
    export FLINK_CONF_DIR="$RUN/conf" FLINK_LOG_DIR="$RUN/log" FLINK_PID_DIR="$RUN/pid"
    "$FLINK_HOME/bin/jobmanager.sh" start >/dev/null
    for _ in $(seq 1 "$taskmanagers"); do "$FLINK_HOME/bin/taskmanager.sh" start >/dev/null; done
    cd "$RUN"
    launch job-server java -Xmx512m -jar "$JOB_SERVER_JAR" --flink-master "localhost:$REST_PORT" --job-port "$JOB_PORT" \
        --artifact-port 0 --expansion-port 0 --artifacts-dir "$RUN/artifacts"
    wait_for 90 "Flink's REST API on localhost:$REST_PORT" rest /overview >/dev/null
    wait_for 90 "$taskmanagers TaskManagers" test_taskmanagers "$taskmanagers"
    wait_for 60 "Beam's job server on localhost:$JOB_PORT" port_open "$JOB_PORT"
    log "up: JobManager http://localhost:$REST_PORT, $taskmanagers TaskManagers, job server localhost:$JOB_PORT"
    args
}

test_taskmanagers() { [ "$(registered_taskmanagers)" -ge "$1" ]; }

args() {
    echo "--runner=FlinkRunner --flink_master=localhost:$REST_PORT --job_endpoint=localhost:$JOB_PORT" \
        "--environment_type=PROCESS --environment_config={\"command\":\"$ROOT/scripts/beam_sdk_worker.sh\"}"
}

stop_pidfile() { # pid file: stop the processes it lists (ours), then forget it
    local file="$1" pid
    [ -f "$file" ] || return 0
    while read -r pid; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done <"$file"
    rm -f "$file"
}

stop() {
    [ -d "$RUN/pid" ] || { log "not running"; return 0; }
    export FLINK_CONF_DIR="$RUN/conf" FLINK_LOG_DIR="$RUN/log" FLINK_PID_DIR="$RUN/pid"
    stop_pidfile "$RUN/pid/job-server.pid"
    [ -x "$FLINK_HOME/bin/taskmanager.sh" ] && "$FLINK_HOME/bin/taskmanager.sh" stop-all >/dev/null 2>&1 || true
    [ -x "$FLINK_HOME/bin/jobmanager.sh" ] && "$FLINK_HOME/bin/jobmanager.sh" stop-all >/dev/null 2>&1 || true
    for _ in $(seq 1 40); do port_open "$REST_PORT" || break; sleep 0.5; done
    rm -rf "$RUN/pid" "$RUN/artifacts" "$RUN/tmp"
    log "stopped"
}

status() {
    if ! rest /overview >/dev/null 2>&1; then
        echo "Flink: not running on localhost:$REST_PORT"
        return 3
    fi
    echo "Flink $(rest /overview | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["flink-version"], "on localhost:'"$REST_PORT"':", o["taskmanagers"], "TaskManagers,", o["slots-total"], "slots,", o["jobs-running"], "jobs running,", o["jobs-finished"], "finished,", o["jobs-failed"], "failed")')"
    port_open "$JOB_PORT" && echo "Beam job server: localhost:$JOB_PORT" || echo "Beam job server: DOWN (localhost:$JOB_PORT)"
}

taskmanager_ids() { rest /taskmanagers | python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin)["taskmanagers"]))'; }

has_new_taskmanager() { # ids known before...: true once a TaskManager not among them has registered
    local id
    for id in $(taskmanager_ids 2>/dev/null); do
        [[ " $* " == *" $id "* ]] || return 0
    done
    return 1
}

add_taskmanager() { # one more TaskManager (e.g. after one was killed: Flink may still list that one for a while)
    rest /overview >/dev/null || die "Flink is not running on localhost:$REST_PORT; use '$0 start'"
    local before
    before="$(taskmanager_ids)"
    FLINK_CONF_DIR="$RUN/conf" FLINK_LOG_DIR="$RUN/log" FLINK_PID_DIR="$RUN/pid" "$FLINK_HOME/bin/taskmanager.sh" start >/dev/null
    # shellcheck disable=SC2086 # the ids are words
    wait_for 90 "a new TaskManager" has_new_taskmanager $before
}

case "${1:-}" in
    start) start "${2:-2}" ;;
    add-taskmanager) add_taskmanager ;;
    stop) stop ;;
    status) status ;;
    args) args ;;
    *) die "usage: $0 start [TASKMANAGERS] | add-taskmanager | stop | status | args" ;;
esac
