#!/usr/bin/env bash
# Start a throwaway MariaDB on 127.0.0.1 for the MySQL-backed metadata tests, installing it
# from Debian's packages if needed. Source it: it exports PIPELINEKIT_TEST_MYSQL
# (host:port:database:user:password) and stops the server when the sourcing shell exits.
# If MariaDB cannot be installed or started, it says so and the MySQL tests are skipped.

_pk_mysql_start() {
    if ! command -v mariadbd >/dev/null 2>&1; then
        echo "Installing mariadb-server for the MySQL metadata tests..." >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server) >/dev/null 2>&1 \
            || { echo "WARNING: could not install mariadb-server; MySQL metadata tests will be skipped" >&2; return 0; }
    fi
    local dir port
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    dir="$(mktemp -d /tmp/pipelinekit-mysql.XXXXXX)"
    mariadb-install-db --user=root --datadir="$dir/data" --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 \
        || { echo "WARNING: mariadb-install-db failed (see $dir/install.log); MySQL tests skipped" >&2; return 0; }
    mariadbd --user=root --datadir="$dir/data" --socket="$dir/sock" --port="$port" --bind-address=127.0.0.1 \
        --pid-file="$dir/pid" >"$dir/server.log" 2>&1 &
    for _ in $(seq 1 60); do
        mariadb -uroot --socket="$dir/sock" -e "SELECT 1" >/dev/null 2>&1 && break
        sleep 0.5
    done
    mariadb -uroot --socket="$dir/sock" -e "CREATE DATABASE IF NOT EXISTS pipelinekit_test;
        CREATE USER IF NOT EXISTS 'pipelinekit'@'127.0.0.1' IDENTIFIED BY 'pipelinekit';
        GRANT ALL ON pipelinekit_test.* TO 'pipelinekit'@'127.0.0.1'; FLUSH PRIVILEGES;" \
        || { echo "WARNING: MariaDB did not start (see $dir/server.log); MySQL tests skipped" >&2; return 0; }
    export PIPELINEKIT_TEST_MYSQL="127.0.0.1:$port:pipelinekit_test:pipelinekit:pipelinekit"
    trap "kill \$(cat '$dir/pid') 2>/dev/null; rm -rf '$dir'" EXIT
}
_pk_mysql_start
