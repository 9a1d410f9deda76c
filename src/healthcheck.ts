/**
 * The container liveness probe: `node dist/healthcheck.js` exits 0 when this container's worker or
 * server wrote its heartbeat file (HEARTBEAT_FILE) in the last 30 s, 1 otherwise, with the reason on
 * stderr. Used by the image's HEALTHCHECK, docker-compose and the Kubernetes worker liveness probe.
 */
import { loadConfig } from './config';
import { checkHeartbeat } from './heartbeat';
import { errorMessage } from './redact';

function main(): number {
  const file = loadConfig().heartbeatFile;
  if (file === undefined) {
    process.stderr.write('unhealthy: HEARTBEAT_FILE is not set, so no process writes a heartbeat\n');
    return 1;
  }
  const v = checkHeartbeat(file);
  if (!v.alive) {
    process.stderr.write(`unhealthy: ${v.reason}\n`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`unhealthy: ${errorMessage(err)}\n`);
  process.exitCode = 1;
}
