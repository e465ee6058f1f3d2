// Entry point of dist/server.js. The transport comes from argv: `--stdio`, `--node-ipc`
// (vscode-languageclient's TransportKind.ipc) or `--socket=<port>`.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { nodeHost } from './nodeHost';
import { startServer } from './server';

const connection = createConnection(ProposedFeatures.all);

function report(what: string, error: unknown): void {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // The client went away: there is no one left to serve or to tell.
  if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_IPC_CHANNEL_CLOSED') process.exit(1);
  try {
    connection.console.error(`Nabla server ${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } catch {
    // The connection itself is broken; nothing useful can be done here.
  }
}

// A bug must cost one lint, not the server: report stray failures and keep serving.
process.on('uncaughtException', (error) => report('error', error));
process.on('unhandledRejection', (reason) => report('error (unhandled rejection)', reason));

startServer(connection, nodeHost);
