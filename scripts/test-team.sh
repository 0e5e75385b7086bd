#!/usr/bin/env bash
# The team deployment, end to end (issue 22): nginx (Debian's package, installed when missing) in
# front of three `tora serve` replicas on one throwaway PostgreSQL cluster and one S3-compatible
# bucket (SeaweedFS, scripts/seaweedfs.mjs; each replica keeps only its own data directory). The
# Python client and the real MLflow client log and upload through nginx while a replica is SIGKILLed
# and restarted. Usage: scripts/test-team.sh [extra pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "== installing nginx (Debian package)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  # Installing must not start the system's nginx on port 80: the test runs its own.
  $SUDO env RUNLEVEL=1 apt-get install -y -q nginx-light || $SUDO env RUNLEVEL=1 apt-get install -y -q nginx
fi
export PATH="$PATH:/usr/sbin"

VENV="$(bash scripts/mlflow-venv.sh)"
if [ ! -f apps/server/dist/main.js ]; then npm run build -w apps/server; fi

unset MLFLOW_TRACKING_URI MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_EXPERIMENT_NAME
BASETEMP=$(mktemp -d)
CLUSTER=$(node scripts/pg-cluster.mjs start)
DIR=$(node -e 'console.log(JSON.parse(process.argv[1]).dir)' "$CLUSTER")
export TORA_TEAM_DATABASE_URL
TORA_TEAM_DATABASE_URL=$(node -e 'console.log(JSON.parse(process.argv[1]).url)' "$CLUSTER")
S3=$(node scripts/seaweedfs.mjs start)
s3() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$S3" "$1"; }
S3_DIR=$(s3 dir)
S3_STOP=(node scripts/seaweedfs.mjs stop "$S3_DIR" "$(s3 pid)" $(node -e 'console.log(JSON.parse(process.argv[1]).grpcPorts.join(" "))' "$S3"))
trap 'node scripts/pg-cluster.mjs stop "$DIR"; "${S3_STOP[@]}"; rm -rf "$BASETEMP"' EXIT
export TORA_ARTIFACT_STORE="s3://$(s3 bucket)/team" TORA_S3_ENDPOINT="$(s3 endpoint)" TORA_S3_REGION=us-east-1 \
  TORA_S3_FORCE_PATH_STYLE=true AWS_ACCESS_KEY_ID="$(s3 accessKeyId)" AWS_SECRET_ACCESS_KEY="$(s3 secretAccessKey)"

"$VENV/bin/python" -m pytest -q -p no:cacheprovider --basetemp "$BASETEMP/pytest" tests/team "$@"
