// Worker-only process (`npm run start:worker`): the generate worker and the webhook delivery
// worker, no HTTP. Same configuration and embedded defaults as the API's main.ts.
import { runService } from './process/run-service.ts';

await runService({ role: 'worker' });
