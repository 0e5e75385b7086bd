import { buildApp } from '../app.js';
import type { Config } from '../config.js';
import { openMigrated, say, type CliIo } from './shared.js';

/** Resolves with the first SIGTERM or SIGINT; later ones (while closing) are ignored until `done`. */
function shutdownSignal(): { received: Promise<NodeJS.Signals>; done: () => void } {
  let resolve: (signal: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onSignal = (signal: NodeJS.Signals): void => resolve(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    received,
    done: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/**
 * `tora serve`: listens until SIGTERM or SIGINT, then closes the app and the database and
 * returns 0 (the process then ends on its own); 1 when the port is taken.
 */
export async function serve(config: Config, io: CliIo): Promise<number> {
  const database = await openMigrated(config);
  const app = await buildApp(config, { database });
  const shutdown = shutdownSignal();
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    shutdown.done();
    await app.close();
    await database.close();
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    say(
      io.stderr,
      `tora: port ${config.port} on ${config.host} is already in use; stop what uses it or set TORA_PORT to another port`,
    );
    return 1;
  }
  // The one line a terminal gets at the default log level; the JSON log has it too at "info".
  const ready = `Tora is ready at http://${config.host}:${config.port}`;
  say(io.stdout, `${ready} (${database.dialect.name === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: ${database.location})`);
  app.log.info({ database: database.dialect.name, location: database.location }, ready);
  const signal = await shutdown.received;
  app.log.info({ signal }, 'shutting down');
  try {
    await app.close();
    await database.close();
  } finally {
    shutdown.done();
  }
  return 0;
}
