// Webhook delivery attempts by event and outcome (success, http_error, network_error), counted in
// the process registry from the delivery worker's onAttempt.
import { processRegistry, webhookOutcome, workerMetrics, type Registry } from '@sdsvc/metrics';

export function countWebhookAttempt(event: string, status: number | null, registry: Registry = processRegistry()): void {
  workerMetrics(registry).webhookAttempts.inc({ event, outcome: webhookOutcome(status) });
}
