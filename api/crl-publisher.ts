/** Starts the CRL publisher workflow if it is not running; every API process may call it, one runs. */
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { CRL_PUBLISHER_ID, type crlPublisherWorkflow } from '../workflows/crl-publisher.js';

export async function ensureCrlPublisher(client: Client, taskQueue: string): Promise<void> {
  await client.workflow.start<typeof crlPublisherWorkflow>('crlPublisherWorkflow', {
    workflowId: CRL_PUBLISHER_ID,
    taskQueue,
    args: ['1 day'],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}
