/* The saga console's page script: polls /console/snapshot every second and draws it; opens one
 * order's journey; shows and replays dead letters. Plain DOM, no framework, no external assets. */
/* global document, window */
'use strict';

const POLL_MS = 1000;
const HISTORY = 120;
const STATUSES = ['PENDING', 'RESERVED', 'COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED'];
const LANES = ['product', 'inventory', 'order', 'payment'];
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
const state = {
  customer: new URLSearchParams(window.location.search).get('customer') ?? '',
  adminKey: sessionStorage.getItem('shopstream-admin-key') ?? '',
  orderId: new URLSearchParams(window.location.search).get('order') ?? '',
  history: Object.fromEntries(STATUSES.map((s) => [s, []])),
  deadLetterSignature: {},
  deadLetterRecords: {},
  /** The hops of the latest snapshot: where each topic's arrow goes in an order's journey. */
  hops: [],
};

/** Builds an element: el('td', { class: 'num' }, 'text', child…). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    // Through the CSSOM: the Content-Security-Policy refuses style attributes.
    else if (name === 'style')
      for (const declaration of String(value).split(';')) {
        const colon = declaration.indexOf(':');
        if (colon > 0)
          node.style.setProperty(declaration.slice(0, colon).trim(), declaration.slice(colon + 1).trim());
      }
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs))
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/**
 * Puts `children` into `container` keeping every existing child whose markup is unchanged (found
 * by its `key` attribute), so a poll does not steal the focus from a button the user is on.
 */
function reconcile(container, children, key) {
  const existing = new Map([...container.children].map((child) => [child.getAttribute(key), child]));
  const wanted = children.map((child) => {
    const old = existing.get(child.getAttribute(key));
    return old && old.outerHTML === child.outerHTML ? old : child;
  });
  wanted.forEach((child, index) => {
    if (container.children[index] !== child) container.insertBefore(child, container.children[index] ?? null);
  });
  while (container.children.length > wanted.length) container.lastElementChild.remove();
}

const ms = (value) =>
  value === null || value === undefined
    ? '–'
    : value < 1000
      ? `${Math.round(value)} ms`
      : `${(value / 1000).toFixed(1)} s`;
const rate = (value) => (value ? value.toFixed(1) : '0');
const time = (iso) => (iso ? new Date(iso).toISOString().slice(11, 23) : '–');
const short = (id) => id.slice(0, 8);

async function getJson(path, init) {
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok)
    throw Object.assign(new Error(body.detail ?? `${response.status} ${response.statusText}`), {
      status: response.status,
    });
  return body;
}

function showAlert(message) {
  const alert = $('alert');
  if (!message) {
    alert.hidden = true;
    alert.textContent = '';
  } else if (alert.textContent !== message) {
    alert.hidden = false;
    alert.textContent = message;
  }
}

// ---- the sequence diagrams (flow and one order) ----

/** Lifelines for the four services and one arrow per row: { from, to, label, sub, cls }. */
function sequence(rows, title) {
  const width = 1040;
  const laneX = (lane) => 90 + LANES.indexOf(lane) * 260;
  const top = 44;
  const rowHeight = 40;
  const height = top + rows.length * rowHeight + 12;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  root.append(svg('title', {}, title));
  root.append(
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          id: 'head',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        svg('path', { d: 'M0 0 L10 5 L0 10 z', fill: '#52607a' }),
      ),
    ),
  );
  for (const lane of LANES) {
    const x = laneX(lane);
    root.append(svg('line', { class: 'lifeline', x1: x, x2: x, y1: top - 6, y2: height - 4 }));
    root.append(
      svg(
        'g',
        { class: 'service' },
        svg('rect', { x: x - 62, y: 4, width: 124, height: 28, rx: 5 }),
        svg('text', { x, y: 23, 'text-anchor': 'middle' }, lane),
      ),
    );
  }
  rows.forEach((row, index) => {
    const y = top + index * rowHeight + 22;
    const x1 = laneX(row.from);
    const x2 = laneX(row.to);
    const cls = `arrow ${row.cls ?? ''}`;
    if (x1 === x2) {
      root.append(svg('path', { class: cls, d: `M${x1} ${y - 8} h46 v16 h-42`, 'marker-end': 'url(#head)' }));
      root.append(
        svg(
          'text',
          { x: x1 + 54, y: y - 4, class: row.cls === 'stopped' ? 'stopped' : undefined },
          row.label,
        ),
      );
      root.append(svg('text', { x: x1 + 54, y: y + 10, class: 'sub' }, row.sub ?? ''));
    } else {
      const dir = x2 > x1 ? 1 : -1;
      root.append(
        svg('line', {
          class: cls,
          x1: x1 + dir * 4,
          x2: x2 - dir * 6,
          y1: y,
          y2: y,
          'marker-end': 'url(#head)',
        }),
      );
      const mid = (x1 + x2) / 2;
      root.append(
        svg(
          'text',
          { x: mid, y: y - 5, 'text-anchor': 'middle', class: row.cls === 'stopped' ? 'stopped' : undefined },
          row.label,
        ),
      );
      root.append(svg('text', { x: mid, y: y + 13, 'text-anchor': 'middle', class: 'sub' }, row.sub ?? ''));
    }
  });
  return root;
}

/** "n/a" with its reason, readable by hovering, focusing (keyboard) or a screen reader. */
const unavailable = (reason) =>
  el(
    'span',
    { class: 'unavailable', title: reason, tabindex: 0, 'aria-label': `unavailable: ${reason}` },
    'n/a',
  );

const hopLabel = (hop) => (hop.kind === 'invoke' ? `Lambda Invoke → ${hop.function}` : hop.id);

function drawFlow(snapshot) {
  state.hops = snapshot.hops;
  const rows = snapshot.hops.map((hop) => ({
    from: hop.from,
    to: hop.to,
    label: hopLabel(hop),
    sub: `${rate(hop.perSecond)}/s${hop.latencyUnavailable ? '' : ` · p50 ${ms(hop.p50Ms)} · p99 ${ms(hop.p99Ms)}`}${hop.kind === 'kafka' ? ` · lag ${hop.lag ?? 'n/a'}` : ''}`,
    cls: hop.perSecond > 0 ? 'active' : '',
  }));
  $('flow-diagram').replaceChildren(
    sequence(
      rows,
      'Flow of the saga between product, inventory, order and payment; the same figures are in the table below',
    ),
  );
  reconcile(
    $('hops').tBodies[0],
    snapshot.hops.map((hop) =>
      el(
        'tr',
        { 'data-hop': hop.id },
        el('th', { scope: 'row' }, el('code', {}, hopLabel(hop))),
        el('td', {}, `${hop.from} → ${hop.to}`),
        el('td', {}, hop.function),
        el('td', { class: 'num' }, rate(hop.perSecond)),
        el(
          'td',
          { class: 'num' },
          hop.latencyUnavailable ? unavailable(hop.latencyUnavailable) : ms(hop.p50Ms),
        ),
        el(
          'td',
          { class: 'num' },
          hop.latencyUnavailable ? unavailable(hop.latencyUnavailable) : ms(hop.p99Ms),
        ),
        el('td', { class: 'num' }, String(hop.inFlight)),
        el(
          'td',
          { class: 'num' },
          hop.kind !== 'kafka' ? '–' : hop.lag !== null ? String(hop.lag) : unavailable(hop.lagUnavailable),
        ),
      ),
    ),
    'data-hop',
  );
  $('rate-window').textContent = snapshot.windows.rateSeconds;
  $('latency-window').textContent = snapshot.windows.latencySeconds;
  $('outbox').textContent =
    `Outbox: ${snapshot.outbox.due} event(s) due and unpublished, ${snapshot.outbox.scheduled} scheduled (payment retries waiting for their backoff).${snapshot.kafka.ok ? '' : ` Kafka figures unavailable: ${snapshot.kafka.error}`}`;
}

function drawStatuses(snapshot) {
  $('scope-label').textContent = snapshot.scope
    ? `(customer ${snapshot.scope.customerId})`
    : '(all customers)';
  $('statuses').replaceChildren(
    ...STATUSES.map((status) => {
      const series = state.history[status];
      series.push(snapshot.statuses[status]);
      if (series.length > HISTORY) series.shift();
      const max = Math.max(1, ...series);
      const points = series
        .map((value, i) => `${(i / (HISTORY - 1)) * 100},${28 - (value / max) * 26}`)
        .join(' ');
      return el(
        'li',
        { 'data-status': status, style: `--c: var(--${status})` },
        el('span', { class: 'name', id: `status-${status}` }, status),
        el(
          'span',
          { class: 'count', 'aria-describedby': `status-${status}` },
          String(snapshot.statuses[status]),
        ),
        svg(
          'svg',
          { viewBox: '0 0 100 28', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
          svg('polyline', { points }),
        ),
      );
    }),
  );
}

function orderItem(order) {
  return el(
    'li',
    { 'data-key': order.id },
    el('span', { class: 'badge', style: `--c: var(--${order.status})` }, order.status),
    el(
      'button',
      {
        type: 'button',
        class: 'link',
        'data-order': order.id,
        'aria-label': `Show order ${order.id}`,
        onclick: () => openOrder(order.id),
      },
      short(order.id),
    ),
    el('span', { class: 'when' }, time(order.createdAt)),
  );
}

function drawOrders(snapshot) {
  reconcile(
    $('recent'),
    snapshot.recent.length ? snapshot.recent.map(orderItem) : [el('li', { 'data-key': 'none' }, 'none yet')],
    'data-key',
  );
  reconcile(
    $('inflight'),
    snapshot.inFlight.length
      ? snapshot.inFlight.map(orderItem)
      : [el('li', { 'data-key': 'none' }, 'none: every order is terminal')],
    'data-key',
  );
}

function drawStock(snapshot) {
  const max = Math.max(1, ...snapshot.stock.map((s) => s.onHand));
  reconcile(
    $('stock').tBodies[0],
    snapshot.stock.map((line) =>
      el(
        'tr',
        { 'data-product': line.productId },
        el(
          'th',
          { scope: 'row' },
          line.name ?? line.productId,
          el('br'),
          el('small', { class: 'mono' }, line.sku ?? short(line.productId)),
        ),
        el('td', { class: 'num' }, String(line.onHand)),
        el('td', { class: 'num' }, String(line.reserved)),
        el(
          'td',
          { class: 'num available' },
          String(line.available),
          el('span', {
            class: `bar${line.available === 0 ? ' low' : ''}`,
            style: `width: ${Math.round((line.available / max) * 60)}px`,
            'aria-hidden': 'true',
          }),
        ),
      ),
    ),
    'data-product',
  );
}

// ---- dead letters ----

function drawDeadLetters(snapshot) {
  const rows = snapshot.deadLetters.map((dlq) => {
    const records = state.deadLetterRecords[dlq.topic] ?? [];
    const newest = records
      .slice(0, 3)
      .map((r) =>
        el(
          'div',
          { class: 'letter' },
          el(
            'span',
            { class: 'mono' },
            `${r.sourceTopic ?? '?'}[${r.sourcePartition ?? '?'}]@${r.sourceOffset ?? '?'}`,
          ),
          ' ',
          el('span', { class: 'when' }, `${time(r.at)}${r.waiting ? '' : ' (replayed)'}`),
          el('div', { class: 'error' }, r.error ?? 'no error header'),
        ),
      );
    return el(
      'tr',
      { 'data-dlq': dlq.topic },
      el('th', { scope: 'row' }, el('code', {}, dlq.deadLetterTopic)),
      el('td', { class: 'num waiting' }, String(dlq.waiting)),
      el('td', { class: 'num' }, String(dlq.total)),
      el('td', {}, newest.length ? newest : '–'),
      el(
        'td',
        {},
        el(
          'button',
          {
            type: 'button',
            disabled: dlq.waiting === 0,
            'aria-label': `Replay ${dlq.waiting} record(s) of ${dlq.deadLetterTopic}`,
            onclick: () => replay(dlq.topic),
          },
          'Replay',
        ),
      ),
    );
  });
  reconcile($('dead-letters').tBodies[0], rows, 'data-dlq');
  // The newest records are read from Kafka only when a dead-letter topic changed.
  for (const dlq of snapshot.deadLetters) {
    const signature = `${dlq.total}/${dlq.waiting}`;
    if (dlq.total > 0 && state.deadLetterSignature[dlq.topic] !== signature) {
      state.deadLetterSignature[dlq.topic] = signature;
      getJson(`/console/dead-letters/${encodeURIComponent(dlq.topic)}`)
        .then((view) => (state.deadLetterRecords[dlq.topic] = view.records))
        .catch(() => delete state.deadLetterSignature[dlq.topic]);
    }
  }
}

async function replay(topic) {
  const result = $('replay-result');
  if (!state.adminKey) {
    result.textContent = 'Enter the admin key (x-api-key) above first.';
    $('admin-key').focus();
    return;
  }
  result.textContent = `Replaying ${topic}.dlq…`;
  try {
    const body = await getJson(`/console/dead-letters/${encodeURIComponent(topic)}/replay`, {
      method: 'POST',
      headers: { 'x-api-key': state.adminKey },
    });
    result.textContent = `${body.deadLetterTopic} → ${body.source}: ${body.replayed} record(s) replayed.`;
    delete state.deadLetterSignature[topic];
  } catch (error) {
    result.textContent = `Replay of ${topic}.dlq refused: ${error.message}`;
  }
}

// ---- one order ----

function eventRow(event, diagnosis) {
  const drawn = state.hops.find((h) => h.id === event.topic);
  const hop = drawn ? [drawn.from, drawn.to] : ['order', 'order'];
  const pending = !event.appliedAt;
  const stopped = pending && diagnosis.state === 'stuck' && diagnosis.hop === event.topic;
  const label = event.action ? `${event.topic} (${event.action} #${event.attempt})` : event.topic;
  const sub = pending
    ? event.publishedAt
      ? `published ${time(event.publishedAt)}, not applied`
      : `due ${time(event.availableAt)}${event.backoffMs !== null ? ` (backoff ${ms(event.backoffMs)})` : ''}, not published`
    : `${time(event.availableAt)} → applied ${time(event.appliedAt)} (${ms(Date.parse(event.appliedAt) - Date.parse(event.availableAt))})${event.backoffMs !== null ? `, backoff ${ms(event.backoffMs)}` : ''}`;
  return {
    from: hop[0],
    to: hop[1],
    label,
    sub,
    cls: stopped ? 'stopped' : pending ? 'waiting' : 'done',
    charge: event.topic === 'payment.requested' && event.action === 'charge' ? event.attempt : undefined,
  };
}

function drawJourney(journey) {
  const { order, diagnosis } = journey;
  $('journey').hidden = false;
  $('journey-title').textContent = `Order ${order.id}: ${order.status}`;
  const diag = $('diagnosis');
  diag.className = `diagnosis ${diagnosis.state}`;
  diag.textContent = `${diagnosis.state === 'stuck' ? 'Stuck' : diagnosis.state === 'waiting' ? 'In flight' : 'Finished'}: ${diagnosis.summary}`;
  const rows = journey.events.map((event) => eventRow(event, diagnosis));
  // Each charge is a Lambda Invoke from order to payment, placed right after the
  // payment.requested (charge #n) step that made it.
  for (const payment of journey.payments) {
    const step = rows.findIndex((row) => row.charge === payment.attempt);
    const index = step >= 0 ? step + 1 : rows.length;
    const row = {
      from: 'order',
      to: 'payment',
      label: `charge #${payment.attempt}: ${payment.status}${payment.failureCode ? ` (${payment.failureCode})` : ''}`,
      sub: `${time(payment.createdAt)} → ${payment.settledAt ? time(payment.settledAt) : 'not settled'}`,
      cls:
        payment.status === 'PENDING'
          ? diagnosis.hop === 'payment.charge' && diagnosis.state === 'stuck'
            ? 'stopped'
            : 'waiting'
          : 'done',
    };
    rows.splice(index, 0, row);
  }
  $('journey-diagram').replaceChildren(
    sequence(rows, `Journey of order ${order.id}; the transitions are listed below`),
  );
  $('timeline').replaceChildren(
    ...journey.timeline.map((t) =>
      el(
        'li',
        {},
        el('span', { class: 'badge', style: `--c: var(--${t.status})` }, t.status),
        ' ',
        el('span', { class: 'when' }, time(t.at)),
        ' ',
        t.detail,
      ),
    ),
  );
  const charges = journey.events.filter((e) => e.topic === 'payment.requested' && e.action === 'charge');
  $('payments').tBodies[0].replaceChildren(
    ...(journey.payments.length
      ? journey.payments.map((p) => {
          const request = charges.find((e) => e.attempt === p.attempt);
          return el(
            'tr',
            {},
            el('td', { class: 'num' }, String(p.attempt)),
            el('td', {}, p.status, p.failureCode ? ` (${p.failureCode})` : ''),
            el('td', { class: 'num' }, request && request.backoffMs !== null ? ms(request.backoffMs) : '–'),
            el('td', {}, time(p.createdAt)),
            el('td', {}, time(p.settledAt)),
          );
        })
      : [el('tr', {}, el('td', { colspan: 5 }, 'no payment attempt'))]),
  );
  $('reservations').tBodies[0].replaceChildren(
    ...(journey.reservations.length
      ? journey.reservations.map((r) =>
          el(
            'tr',
            {},
            el('td', { class: 'mono' }, short(r.productId)),
            el('td', { class: 'num' }, String(r.quantity)),
            el('td', {}, r.status),
            el('td', {}, time(r.updatedAt)),
          ),
        )
      : [el('tr', {}, el('td', { colspan: 4 }, 'nothing held'))]),
  );
}

async function refreshOrder() {
  if (!state.orderId) return;
  try {
    drawJourney(await getJson(`/console/orders/${encodeURIComponent(state.orderId)}`));
  } catch (error) {
    $('journey').hidden = false;
    $('journey-title').textContent = `Order ${state.orderId}`;
    $('diagnosis').className = 'diagnosis stuck';
    $('diagnosis').textContent =
      error.status === 404
        ? 'No such order.'
        : error.status === 400
          ? 'That is not an order id (a UUID).'
          : `Could not load it: ${error.message}`;
    $('journey-diagram').replaceChildren();
  }
}

async function openOrder(id) {
  state.orderId = id.trim();
  $('order-id').value = state.orderId;
  await refreshOrder();
  $('journey-title').focus();
}

// ---- the poll loop ----

async function poll() {
  const started = Date.now();
  try {
    const query = state.customer ? `?customerId=${encodeURIComponent(state.customer)}` : '';
    // The open order's journey is fetched alongside (it draws with the previous poll's hops).
    const [snapshot] = await Promise.all([getJson(`/console/snapshot${query}`), refreshOrder()]);
    drawFlow(snapshot);
    drawStatuses(snapshot);
    drawOrders(snapshot);
    drawStock(snapshot);
    drawDeadLetters(snapshot);
    const kafkaAge = snapshot.kafka.asOf ? Date.parse(snapshot.at) - Date.parse(snapshot.kafka.asOf) : 0;
    $('freshness').textContent =
      `live · as of ${time(snapshot.at)} UTC${kafkaAge > 1500 ? ` · Kafka figures ${ms(kafkaAge)} old` : ''}`;
    $('freshness').classList.remove('stale');
    showAlert('');
  } catch (error) {
    $('freshness').classList.add('stale');
    showAlert(`The console could not refresh: ${error.message}. Retrying every second.`);
  } finally {
    // One poll a second, however long the last one took (never two at once).
    window.setTimeout(poll, Math.max(0, started + POLL_MS - Date.now()));
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('customer').value = state.customer;
  $('admin-key').value = state.adminKey;
  $('settings').addEventListener('submit', (event) => {
    event.preventDefault();
    state.customer = $('customer').value.trim();
    state.adminKey = $('admin-key').value;
    sessionStorage.setItem('shopstream-admin-key', state.adminKey);
    state.history = Object.fromEntries(STATUSES.map((s) => [s, []]));
  });
  $('order-search').addEventListener('submit', (event) => {
    event.preventDefault();
    openOrder($('order-id').value);
  });
  poll();
});
