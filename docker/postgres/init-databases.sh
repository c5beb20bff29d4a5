#!/bin/sh
# Runs once, on an empty PostgreSQL volume (docker-entrypoint-initdb.d): the Airflow database
# and user come from POSTGRES_* in the compose file; this adds Superset's own user and
# database. Names and passwords come from the environment (.env), never from this file.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set=su="$SUPERSET_DB_USER" --set=sp="$SUPERSET_DB_PASSWORD" --set=sd="$SUPERSET_DB_NAME" <<'SQL'
CREATE ROLE :"su" LOGIN PASSWORD :'sp';
CREATE DATABASE :"sd" OWNER :"su";
SQL
