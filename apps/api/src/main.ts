// The process `npm start` runs. ROLE = api | worker | all (default all: API and worker together
// on embedded defaults — file storage, the bundled tiny model, a Redis found or started).
import { runService } from '@sdsvc/worker/process';
import { startApi } from './server.ts';

await runService({ startApi: (config, deps) => startApi(config, deps) });
