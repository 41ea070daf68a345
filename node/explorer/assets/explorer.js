// aonode explorer: live updates of a process's schedule and of work in progress, and the console.
// Plain DOM, no library; the pages work without it (only live updates and the console need it).
'use strict'

const POLL_MS = 1500

function poll (fn) {
  let busy = false
  const tick = async () => {
    if (busy || document.hidden) return
    busy = true
    try { await fn() } catch (e) { console.warn('explorer poll', e) } finally { busy = false }
  }
  tick()
  return setInterval(tick, POLL_MS)
}

function fragment (html) {
  const t = document.createElement('template')
  t.innerHTML = html.trim()
  return t.content.firstChild
}

function renderJobs (box, jobs) {
  box.replaceChildren(...jobs.map((j) => {
    const d = document.createElement('div')
    d.className = 'job'
    const line = document.createElement('div')
    line.className = 'jobline'
    line.textContent = j.line
    const bar = document.createElement('div')
    bar.className = 'bar'
    const fill = document.createElement('div')
    fill.style.width = j.percent.toFixed(1) + '%'
    bar.append(fill)
    d.append(line, bar)
    return d
  }))
}

// The schedule's first page takes in new messages, and results of the ones not evaluated yet.
function liveSchedule () {
  const table = document.getElementById('schedule')
  if (!table || table.dataset.live !== 'true') return
  const pid = table.dataset.pid
  const body = table.tBodies[0]
  let head = Number(table.dataset.head)
  const pending = new Set(table.dataset.pending ? table.dataset.pending.split(',').map(Number) : [])
  const progress = document.getElementById('progress')
  poll(async () => {
    const res = await fetch(`/api/process/${pid}/since?after=${head}&pending=${[...pending].slice(0, 50).join(',')}`)
    if (!res.ok) return
    const out = await res.json()
    if (out.reload) { location.reload(); return }
    for (const r of out.rows) {
      const row = fragment(r.html)
      const old = document.getElementById('n-' + r.nonce)
      if (old) {
        old.replaceWith(row)
      } else if (r.nonce > head) {
        row.classList.add('fresh')
        body.prepend(row)
      }
      if (r.evaluated) pending.delete(r.nonce); else pending.add(r.nonce)
    }
    head = Math.max(head, out.head)
    document.getElementById('head-nonce').textContent = out.head
    document.getElementById('eval-nonce').textContent = out.evaluated
    if (progress) renderJobs(progress, out.progress)
  })
}

// The overview's work in progress.
function liveProgress () {
  const box = document.querySelector('[data-poll="/api/progress"]')
  if (!box) return
  poll(async () => {
    const res = await fetch('/api/progress')
    if (!res.ok) return
    const out = await res.json()
    if (out.active.length) renderJobs(box, out.active)
    else box.innerHTML = '<p class="quiet">Nothing long is running.</p>'
  })
}

function consoleForm () {
  const form = document.getElementById('console')
  if (!form) return
  const out = document.getElementById('console-out')
  const lua = form.querySelector('.lua')
  const msg = form.querySelector('.message')
  form.addEventListener('change', () => {
    const mode = form.elements.mode.value
    lua.hidden = mode !== 'lua'
    msg.hidden = mode !== 'message'
  })
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const button = form.querySelector('button')
    button.disabled = true
    out.innerHTML = '<p class="quiet">evaluating…</p>'
    try {
      const res = await fetch(`/api/process/${form.dataset.pid}/dry-run`, { method: 'POST', body: new URLSearchParams(new FormData(form)) })
      const body = await res.json()
      if (!res.ok) {
        const p = document.createElement('p')
        p.className = 'failure'
        p.textContent = body.error || res.statusText
        out.replaceChildren(p)
      } else {
        out.replaceChildren(fragment(body.html))
      }
    } catch (e) {
      out.textContent = 'The node did not answer: ' + e
    } finally {
      button.disabled = false
    }
  })
}

document.addEventListener('DOMContentLoaded', () => {
  liveSchedule()
  liveProgress()
  consoleForm()
})
