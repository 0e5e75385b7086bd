/** The commands that move data: `export`, `import` and `import-mlflow`. */
import fs from 'node:fs';
import { once } from 'node:events';
import readline from 'node:readline';
import type { AppContext, Caller } from '../context.js';
import { AppError } from '../errors.js';
import { userByEmail } from '../modules/auth/auth.service.js';
import { MlflowError } from '../modules/mlflow/mlflow.errors.js';
import { importMlflow as copyFromMlflow } from '../modules/mlflow/mlflow.import.js';
import { exportLines, type ExportFilter } from '../modules/transfer/transfer.export.js';
import { checkExportLines, importLines } from '../modules/transfer/transfer.import.js';
import { say, usage, withDatabase, type CliIo, type Command } from './shared.js';

/** The lines of a file, as they are read. */
function fileLines(file: string): AsyncIterable<string> {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  // Iterate from the start: readline drops lines emitted before its iterator exists.
  const iterator = rl[Symbol.asyncIterator]();
  return { [Symbol.asyncIterator]: () => iterator };
}

async function writeLines(sink: NodeJS.WritableStream, lines: AsyncIterable<string>): Promise<void> {
  for await (const line of lines) if (!sink.write(`${line}\n`)) await once(sink, 'drain');
}

/** Streams an export to stdout, or to a file that appears only when complete. */
async function exportTo(ctx: AppContext, filter: ExportFilter, out: string | undefined, io: CliIo): Promise<void> {
  const lines = exportLines(ctx, filter, (message) => say(io.stderr, message));
  if (out === undefined) return writeLines(io.stdout, lines);
  const partial = `${out}.partial`;
  const file = fs.createWriteStream(partial);
  try {
    await writeLines(file, lines);
    await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    fs.renameSync(partial, out);
  } catch (err) {
    file.destroy();
    fs.rmSync(partial, { force: true });
    throw err;
  }
  say(io.stderr, `wrote ${out}`);
}

export const exportCommand: Command = async (config, values, _rest, io) => {
  const filter = {
    workspace: values.workspace,
    experimentIds: values.experiment,
    accounts: values.accounts,
    noFiles: values['no-files'],
  };
  await withDatabase(config, (ctx) => exportTo(ctx, filter, values.out, io));
  return 0;
};

export const importCommand: Command = async (config, values, rest, io) => {
  const file = rest[0];
  if (!file || rest.length > 1) return usage(io, 'tora import needs a FILE (and --email, unless the export has accounts)');
  const target = { email: values.email, workspace: values.workspace };
  // Read twice: first to refuse a file with records this server cannot store, before any write.
  await checkExportLines(fileLines(file));
  const result = await withDatabase(config, (ctx) =>
    importLines(ctx, fileLines(file), target, (message) => say(io.stderr, message)),
  );
  say(
    io.stdout,
    `imported ${result.experiments} experiments (${result.resumed} already there) and ` +
      `${result.points.toLocaleString('en-US')} points (${result.duplicatePoints.toLocaleString('en-US')} already there) ` +
      `and ${result.files} files`,
  );
  return 0;
};

export const importMlflowCommand: Command = async (config, values, _rest, io) => {
  if (!values.from || !values.email) return usage(io, 'tora import-mlflow needs --from URL and --email E');
  const { from, email } = values;
  const opts = { from, token: values.token, experiments: values.experiment ?? [], artifacts: values.artifacts };
  let totals;
  try {
    totals = await withDatabase(config, async (ctx) => {
      const caller: Caller = { userId: (await userByEmail(ctx, email)).id, via: 'cli' };
      return copyFromMlflow(ctx, caller, opts, (line) => say(io.stderr, line));
    });
  } catch (err) {
    if (err instanceof AppError || err instanceof MlflowError || !(err instanceof Error)) throw err;
    // An unreachable or failing MLflow server: its message, not a stack trace.
    say(io.stderr, `tora: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`);
    return 1;
  }
  say(
    io.stdout,
    `imported ${totals.experiments} experiments, ${totals.runs} runs (${totals.runs - totals.newRuns} found from an ` +
      `earlier import) and ${totals.points.toLocaleString('en-US')} points (already-imported points are not stored twice)` +
      (values.artifacts ? `, ${totals.files} artifact files` : ''),
  );
  return 0;
};
