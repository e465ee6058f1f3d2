// The language server with the host a browser worker gives (no disk), on stdio, for tests in Node:
// the same startServer as server/lsp/main.ts and server/lsp/browserMain.ts.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { initEngine } from '../../server/engine';
import { startServer } from '../../server/lsp/server';

startServer(createConnection(ProposedFeatures.all), { initEngine: () => initEngine() });
