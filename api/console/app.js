// The staff console: sign-in, the review queue, an order's page with its evidence and the actions of the role.
// Pages are chosen by the URL fragment (#/ the queue, #/orders/<id> an order) so that the browser's back works.
import { ApiProblem, describeProblem, get, getBlob, post, postForm, setToken, signedIn, whenUnauthorized } from './api.js';

const STATUSES = [
  'created', 'awaiting_evidence', 'under_review', 'approved', 'awaiting_face_to_face', 'awaiting_originals', 'originals_overdue',
  'awaiting_domain_validation', 'awaiting_payment', 'issuing', 'awaiting_acceptance', 'awaiting_unlock', 'on_hold', 'completed',
  'cancelled', 'abandoned', 'refused',
];
const WAITING_ON = ['customer', 'ra', 'dra', 'post', 'payment', 'ca', 'nobody'];
const REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn'];
const STAFF = new Set(['ra_operator', 'dra_operator', 'auditor', 'admin']);
/** Where each role's queue starts: what is waiting on that role. */
const DEFAULT_WAITING = { ra_operator: 'ra', dra_operator: 'dra' };

const $ = (sel) => document.querySelector(sel);
let me = null;
/** The blob: URL of the document on show, released when another one replaces it. */
let shownUrl = null;

/** Builds an element; strings become text nodes, so nothing from the API is ever parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const words = (code) => String(code).replaceAll('_', ' ');
const when = (iso) => (iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '—');
const euros = (cents) => `${(cents / 100).toFixed(2)} € ex. VAT`;

function notice(text) {
  $('#notice').textContent = text;
}
function showProblem(err) {
  const box = $('#problem');
  if (err === null) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  box.textContent = describeProblem(err);
  box.hidden = false;
}

function show(section) {
  for (const id of ['login', 'queue', 'order']) $(`#${id}`).hidden = id !== section;
}

// ---- sign-in ----------------------------------------------------------------------------------------------------

async function startSession(accessToken) {
  setToken(accessToken);
  try {
    me = await get('/v1/me');
  } catch (err) {
    setToken(null);
    throw err;
  }
  if (!STAFF.has(me.role)) {
    setToken(null);
    me = null;
    throw new Error('This console is for RA and DRA operators and auditors; customers use the customer area.');
  }
  $('#who').textContent = `${me.email} (${words(me.role)})`;
  $('#session').hidden = false;
  setupFilters();
  await route();
}

function signOut(message = 'Signed out.') {
  setToken(null);
  me = null;
  releaseShown();
  $('#session').hidden = true;
  // The next operator starts from the queue, not from the page the last one left open.
  window.history.replaceState(null, '', '#/');
  // Nothing of the last session's orders stays in the page.
  $('#queue-table tbody').replaceChildren();
  $('#order-body').replaceChildren();
  $('#queue-count').textContent = '';
  $('#login-form').reset();
  $('#key-form').reset();
  show('login');
  notice(message);
  $('#login-email').focus();
}

whenUnauthorized(() => signOut('Your session has ended: sign in again.'));

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  showProblem(null);
  const data = new FormData(event.currentTarget);
  try {
    const answer = await post('/v1/auth/login', { email: String(data.get('email')).trim(), password: String(data.get('password')) });
    await startSession(answer.accessToken);
  } catch (err) {
    showProblem(err);
  }
});

$('#key-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  showProblem(null);
  try {
    await startSession(String(new FormData(event.currentTarget).get('key')).trim());
  } catch (err) {
    showProblem(err);
  }
});

$('#sign-out').addEventListener('click', () => signOut());

// ---- the queue --------------------------------------------------------------------------------------------------

let filtersReady = false;
async function setupFilters() {
  if (filtersReady) {
    $('#filter-waiting').value = DEFAULT_WAITING[me.role] ?? '';
    return;
  }
  filtersReady = true;
  $('#filter-status').append(...STATUSES.map((s) => h('option', { value: s }, words(s))));
  $('#filter-waiting').append(...WAITING_ON.map((s) => h('option', { value: s }, s === 'ra' ? 'RA' : s === 'dra' ? 'DRA' : s)));
  $('#filter-waiting').value = DEFAULT_WAITING[me.role] ?? '';
  try {
    const catalog = await get('/v1/catalog');
    $('#filter-product').append(...catalog.products.map((p) => h('option', { value: p.code }, `${p.name.en} (${p.code})`)));
  } catch (err) {
    showProblem(err);
  }
}

$('#filters').addEventListener('submit', (event) => {
  event.preventDefault();
  void loadQueue();
});

/** Every page of the filtered list (the API lists newest first), then the oldest waiting at the top. */
async function fetchQueue() {
  const params = new URLSearchParams({ limit: '200' });
  for (const [name, sel] of [['product', '#filter-product'], ['status', '#filter-status'], ['waitingOn', '#filter-waiting']]) {
    const value = $(sel).value;
    if (value) params.set(name, value);
  }
  const items = [];
  for (let page = 0; page < 10; page++) {
    const answer = await get(`/v1/orders?${params}`);
    items.push(...answer.items);
    if (!answer.nextCursor) break;
    params.set('cursor', answer.nextCursor);
  }
  return items.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
}

async function loadQueue() {
  showProblem(null);
  const body = $('#queue-table tbody');
  try {
    const orders = await fetchQueue();
    body.replaceChildren(
      ...orders.map((o) =>
        h('tr', {},
          h('td', {}, h('a', { href: `#/orders/${o.id}`, 'aria-label': `Open order ${o.id}` }, o.id)),
          h('td', {}, o.product),
          h('td', {}, words(o.status)),
          h('td', {}, o.waitingOn),
          h('td', {}, when(o.updatedAt)),
        ),
      ),
    );
    $('#queue-count').textContent = orders.length === 0 ? 'No order matches these filters.' : `${orders.length} order(s).`;
  } catch (err) {
    showProblem(err);
  }
}

// ---- an order ---------------------------------------------------------------------------------------------------

function releaseShown() {
  if (shownUrl !== null) URL.revokeObjectURL(shownUrl);
  shownUrl = null;
}

async function viewDocument(order, item) {
  showProblem(null);
  const viewer = $('#viewer');
  try {
    const blob = await getBlob(`/v1/orders/${order.id}/evidence/${item.documentId}`);
    releaseShown();
    shownUrl = URL.createObjectURL(blob);
    const title = `Document ${words(item.documentType)}`;
    const content = blob.type.startsWith('image/')
      ? h('img', { src: shownUrl, alt: title })
      : h('iframe', { src: shownUrl, title, 'data-media-type': blob.type });
    viewer.replaceChildren(h('h4', {}, title), content);
  } catch (err) {
    showProblem(err);
  }
}

/** Runs an action against the API, then shows the order as the API answers it, or the problem. */
async function act(order, label, run) {
  showProblem(null);
  notice('');
  try {
    await run();
  } catch (err) {
    showProblem(err);
    return;
  }
  // Told once the page shows the order as the API now has it.
  await loadOrder(order.id);
  notice(`${label}: done.`);
}

function field(id, label, input) {
  return [h('label', { for: id }, label), input];
}

function actionForm(title, children, onSubmit, { stacked = false } = {}) {
  // No native validation bubbles: every refusal, the console's or the API's, is told in the same alert region.
  const form = h('form', { class: stacked ? 'stacked' : '', 'aria-label': title, novalidate: true }, ...children);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSubmit(new FormData(form));
  });
  return form;
}

function reviewForm(order) {
  const docs = order.checklist.filter((c) => c.documentId);
  const reasonFields = docs.flatMap((c) =>
    field(`reason-${c.documentType}`, `Rejection reason for ${words(c.documentType)}`, h('input', { id: `reason-${c.documentType}`, name: c.documentType, type: 'text', maxlength: 500 })),
  );
  const form = h('form', { class: 'stacked', 'aria-label': 'Review' },
    ...reasonFields,
    h('div', {},
      h('button', { type: 'button', onclick: () => act(order, 'Approved', () => post(`/v1/orders/${order.id}/review`, { decision: 'approve' })) }, 'Approve the file'),
      ' ',
      h('button', { type: 'submit', class: 'danger' }, 'Reject with these reasons'),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const reasons = docs.map((c) => ({ documentType: c.documentType, reason: String(data.get(c.documentType) ?? '').trim() })).filter((r) => r.reason !== '');
    if (reasons.length === 0) {
      showProblem(new Error('Give a reason for at least one document to reject the file.'));
      return;
    }
    void act(order, 'Rejected', () => post(`/v1/orders/${order.id}/review`, { decision: 'reject', reasons }));
  });
  return form;
}

function raActions(order) {
  const id = order.id;
  const forms = [];
  if (order.status === 'under_review') forms.push(h('h4', {}, 'Review'), reviewForm(order));
  forms.push(
    h('h4', {}, 'Payment'),
    actionForm('Record payment', [
      ...field('pay-status', 'Payment result', h('select', { id: 'pay-status', name: 'status' }, h('option', { value: 'received' }, 'received'), h('option', { value: 'failed' }, 'failed'))),
      ...field('pay-method', 'Method', h('select', { id: 'pay-method', name: 'method' },
        h('option', { value: '' }, `as ordered (${words(order.payment.method)})`),
        ...['transfer', 'cheque', 'purchase_order', 'card'].map((m) => h('option', { value: m }, words(m))))),
      ...field('pay-reference', 'Payment reference', h('input', { id: 'pay-reference', name: 'reference', type: 'text', required: true, maxlength: 100 })),
      h('button', { type: 'submit' }, 'Record payment'),
    ], (data) => {
      const body = { status: data.get('status'), reference: String(data.get('reference')).trim() };
      if (data.get('method')) body.method = data.get('method');
      void act(order, 'Payment recorded', () => post(`/v1/orders/${id}/payment`, body));
    }, { stacked: true }),
  );
  if (order.originals.required) {
    forms.push(h('h4', {}, 'Originals by post'),
      actionForm('Originals', [h('button', { type: 'submit', disabled: order.originals.received }, 'Originals received')], () =>
        act(order, 'Originals recorded', () => post(`/v1/orders/${id}/originals-received`))));
  }
  forms.push(h('h4', {}, 'Hold, release, cancel'));
  if (order.status === 'on_hold') {
    forms.push(actionForm('Release', [h('button', { type: 'submit' }, 'Release the order')], () => act(order, 'Released', () => post(`/v1/orders/${id}/release`))));
  } else {
    forms.push(actionForm('Hold', [
      ...field('hold-comment', 'Hold comment', h('input', { id: 'hold-comment', name: 'comment', type: 'text', required: true, minlength: 3, maxlength: 1000 })),
      h('button', { type: 'submit', class: 'secondary' }, 'Put on hold'),
    ], (data) => act(order, 'Put on hold', () => post(`/v1/orders/${id}/hold`, { comment: String(data.get('comment')).trim() }))));
  }
  forms.push(actionForm('Cancel', [
    ...field('cancel-reason', 'Cancellation reason', h('input', { id: 'cancel-reason', name: 'reason', type: 'text', required: true, minlength: 3, maxlength: 1000 })),
    h('button', { type: 'submit', class: 'danger' }, 'Cancel the order'),
  ], (data) => {
    if (window.confirm('Cancel this order? This cannot be undone.')) void act(order, 'Cancelled', () => post(`/v1/orders/${id}/cancel`, { reason: String(data.get('reason')).trim() }));
  }));
  if (order.certificateSerial) {
    forms.push(h('h4', {}, 'Certificate'), actionForm('Revoke', [
      ...field('revoke-reason', 'Revocation reason', h('select', { id: 'revoke-reason', name: 'reason' }, ...REVOCATION_REASONS.map((r) => h('option', { value: r }, r)))),
      h('button', { type: 'submit', class: 'danger' }, 'Revoke the certificate'),
    ], (data) => {
      if (window.confirm(`Revoke certificate ${order.certificateSerial}?`)) {
        void act(order, 'Revoked', () => post(`/v1/certificates/${order.certificateSerial}/revoke`, { reason: data.get('reason') }));
      }
    }));
  }
  return forms;
}

function draActions(order) {
  if (!order.faceToFace.required) return [h('p', { class: 'muted' }, 'This product needs no face-to-face check.')];
  if (order.faceToFace.done) return [h('p', {}, `Face-to-face recorded (meeting ${order.faceToFace.meetingDate ?? '—'}).`)];
  return [
    h('h4', {}, 'Face-to-face'),
    actionForm('Face-to-face', [
      ...field('f2f-form', 'Signed intervention form', h('input', { id: 'f2f-form', name: 'file', type: 'file', accept: 'application/pdf,image/png,image/jpeg', required: true })),
      ...field('f2f-date', 'Meeting date', h('input', { id: 'f2f-date', name: 'meetingDate', type: 'date', required: true, value: new Date().toISOString().slice(0, 10) })),
      h('button', { type: 'submit' }, 'Record face-to-face'),
    ], (data) => {
      const file = data.get('file');
      if (!(file instanceof File) || file.size === 0) {
        showProblem(new Error('Choose the signed intervention form (PDF, PNG or JPEG).'));
        return;
      }
      void act(order, 'Face-to-face recorded', async () => {
        const upload = new FormData();
        upload.append('documentType', 'intervention_form');
        upload.append('file', file, file.name);
        const stored = await postForm(`/v1/orders/${order.id}/evidence`, upload);
        await post(`/v1/orders/${order.id}/face-to-face`, { interventionFormDocumentId: stored.document.id, meetingDate: data.get('meetingDate') });
      });
    }, { stacked: true }),
  ];
}

/** One timeline entry; a deadline fired, an action refused stand out; an entry the Temporal history backs cites its event. */
function timelineItem(e) {
  const source = e.source
    ? h('span', { class: 'muted', title: `${e.source.workflowId}, run ${e.source.runId}` }, ` · history event ${e.source.eventId}`)
    : null;
  return h('li', { class: `timeline-${e.kind ?? 'event'}` }, `${when(e.at ?? e.time)} — ${e.text ?? e.summary ?? words(e.kind ?? e.type ?? '')}`, source);
}

function renderOrder(order, timeline) {
  const facts = [
    ['Status', words(order.status)],
    ['Waiting on', order.waitingOn],
    ['Product', `${order.product}, ${order.durationYears} year(s), ${order.os}`],
    ['Key', words(order.keyOrigin)],
    ['Review rounds', order.reviewRounds],
    ['Created', when(order.createdAt)],
    ['Last change', when(order.updatedAt)],
  ];
  if (order.heldStatus) facts.push(['On hold from', words(order.heldStatus)], ['Hold comment', order.holdComment ?? '']);
  if (order.closedReason) facts.push(['Closed because', order.closedReason]);
  if (order.certificateSerial) facts.push(['Certificate serial', order.certificateSerial]);

  const checklist = h('table', {},
    h('caption', {}, 'Checklist'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Document'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Evidence'))),
    h('tbody', {}, ...order.checklist.map((c) =>
      h('tr', {},
        h('td', {}, words(c.documentType)),
        h('td', { class: `status-${c.status}` }, c.status, c.rejectionReason ? h('div', { class: 'muted' }, `Reason: ${c.rejectionReason}`) : null),
        h('td', {}, c.documentId
          ? h('button', { type: 'button', class: 'secondary', onclick: () => viewDocument(order, c) }, `View ${words(c.documentType)}`)
          : h('span', { class: 'muted' }, 'not uploaded')),
      ))),
  );

  const deadlines = order.deadlines.length === 0
    ? h('p', { class: 'muted' }, 'No pending deadline.')
    : h('ul', { 'aria-label': 'Deadlines' }, ...order.deadlines.map((d) => h('li', {}, `${words(d.kind)}: ${when(d.at)}`)));

  const p = order.payment;
  const payment = h('dl', { class: 'facts', 'aria-label': 'Payment' },
    h('dt', {}, 'Method'), h('dd', {}, words(p.method) + (p.purchaseOrderNumber ? ` (PO ${p.purchaseOrderNumber})` : '')),
    h('dt', {}, 'Status'), h('dd', {}, words(p.status)),
    h('dt', {}, 'Price'), h('dd', {}, euros(p.priceCents)),
    h('dt', {}, 'Reference'), h('dd', {}, p.reference ?? '—'),
  );

  const proofing = h('ul', { 'aria-label': 'Proofing' },
    h('li', {}, order.faceToFace.required ? `Face-to-face: ${order.faceToFace.done ? `done (${order.faceToFace.meetingDate})` : 'pending'}` : 'Face-to-face: not required'),
    h('li', {}, order.originals.required ? `Originals by post: ${order.originals.received ? 'received' : order.originals.overdue ? 'overdue' : 'awaited'}` : 'Originals by post: not required'),
    order.domains.required ? h('li', {}, `Domains: ${order.domains.items.map((d) => `${d.name} ${d.status}`).join(', ') || '—'}`) : null,
  );

  const actions = me.role === 'ra_operator' ? raActions(order) : me.role === 'dra_operator' ? draActions(order) : [h('p', { class: 'muted' }, 'Read only.')];

  const timelinePanel = timeline === null
    ? null
    : h('section', { class: 'panel', 'aria-label': 'Timeline' }, h('h3', {}, 'Timeline'),
      h('ol', {}, ...(Array.isArray(timeline) ? timeline : timeline.items ?? []).map(timelineItem)));

  $('#order-title').textContent = `Order ${order.id}`;
  $('#order-body').replaceChildren(
    h('div', { class: 'panels' },
      h('div', {},
        h('section', { class: 'panel', 'aria-label': 'Summary' }, h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]))),
        h('section', { class: 'panel', 'aria-label': 'Evidence' }, checklist, h('div', { id: 'viewer', class: 'viewer', role: 'region', 'aria-label': 'Document preview' })),
        h('section', { class: 'panel' }, h('h3', {}, 'Deadlines'), deadlines),
        h('section', { class: 'panel' }, h('h3', {}, 'Payment'), payment),
        h('section', { class: 'panel' }, h('h3', {}, 'Face-to-face and originals'), proofing),
      ),
      h('div', {},
        h('section', { class: 'panel actions', 'aria-label': 'Actions' }, h('h3', {}, 'Actions'), ...actions),
        timelinePanel,
      ),
    ),
  );
}

async function loadOrder(id, { keepNotice = false } = {}) {
  if (!keepNotice) notice('');
  releaseShown();
  try {
    const order = await get(`/v1/orders/${encodeURIComponent(id)}`);
    // The timeline is staff-only and may not exist on every server: its absence hides the panel.
    const timeline = await get(`/v1/orders/${encodeURIComponent(id)}/timeline`).catch((err) => {
      if (err instanceof ApiProblem && err.status !== 401) return null;
      throw err;
    });
    renderOrder(order, timeline);
    show('order');
  } catch (err) {
    showProblem(err);
  }
}

// ---- routing ----------------------------------------------------------------------------------------------------

async function route() {
  if (!signedIn()) {
    show('login');
    return;
  }
  const match = /^#\/orders\/([0-9a-f-]{36})$/i.exec(location.hash);
  if (match) {
    await loadOrder(match[1]);
  } else {
    releaseShown();
    show('queue');
    await loadQueue();
  }
}

window.addEventListener('hashchange', () => {
  showProblem(null);
  void route();
});
void route();
