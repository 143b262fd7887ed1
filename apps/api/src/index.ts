export { buildApp, type AppDeps } from './app.ts';
export { startApi } from './server.ts';
