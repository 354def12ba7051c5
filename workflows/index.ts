export { orderWorkflow } from './order.js';
export { certificateWorkflow } from './certificate.js';
export { crlPublisherWorkflow } from './crl-publisher.js';
export { auditAnchorWorkflow } from './audit-anchor.js';
export { historyArchiveWorkflow } from './archive.js';
export { acmeChallengeWorkflow } from './acme.js';
