/**
 * The failure converter of every client, worker and workflow bundle: a failure's message and stack trace travel as
 * an encoded payload (`encodedAttributes`), which the payload codec encrypts like any other. An error that quotes
 * personal data (an SMTP refusal naming the address, a CA refusal naming the subject) never lies in clear in the
 * Temporal server's store; the Temporal server sees "Encoded failure".
 *
 * Temporal takes it by path (DataConverter.failureConverterPath): the worker and clients `require()` it, the workflow
 * bundler imports it. Plain JavaScript syntax on purpose, so that Node loads the source as it is where no TypeScript
 * hook is installed (vitest's forks: Node 20.19+ requires an ES module that has no types to strip).
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
