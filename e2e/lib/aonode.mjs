// Test harness: builds aonode once, starts it on free loopback ports with a fresh data directory, and
// stops or restarts it. Nothing here fakes the node: tests talk to the real binary over HTTP.
import { spawn as spawnProc, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(import.meta.url), '../../..')

let built
export function binary () {
  if (process.env.AONODE_BIN) return process.env.AONODE_BIN
  if (!built) {
    built = join(root, 'bin', 'aonode')
    execFileSync('go', ['build', '-o', built, './cmd/aonode'], { cwd: root, stdio: 'inherit' })
  }
  return built
}

export async function freePort () {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export class AONode {
  constructor ({ dataDir, ports, extraArgs = [], bin } = {}) {
    this.bin = bin // the aonode binary to run (default: this checkout's, built once)
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'aonode-e2e-'))
    this.ports = ports
    this.extraArgs = extraArgs
    this.logs = ''
  }

  static async start (opts = {}) {
    const ports = opts.ports ?? { gateway: await freePort(), mu: await freePort(), su: await freePort(), cu: await freePort(), admin: await freePort(), explorer: await freePort() }
    const n = new AONode({ ...opts, ports })
    await n.start()
    return n
  }

  get urls () {
    const p = this.ports
    return {
      GATEWAY_URL: `http://127.0.0.1:${p.gateway}`,
      MU_URL: `http://127.0.0.1:${p.mu}`,
      CU_URL: `http://127.0.0.1:${p.cu}`,
      SU_URL: `http://127.0.0.1:${p.su}`
    }
  }

  async start () {
    const p = this.ports
    const infoFile = join(this.dataDir, 'node-info.json')
    if (existsSync(infoFile)) rmSync(infoFile)
    const args = ['-data-dir', this.dataDir, '-gateway-listen', `127.0.0.1:${p.gateway}`,
      '-mu', `127.0.0.1:${p.mu}`, '-su', `127.0.0.1:${p.su}`, '-cu', `127.0.0.1:${p.cu}`,
      '-su-url', `http://127.0.0.1:${p.su}`, '-admin', p.admin ? `127.0.0.1:${p.admin}` : 'off',
      '-explorer', p.explorer ? `127.0.0.1:${p.explorer}` : 'off', ...this.extraArgs]
    this.proc = spawnProc(this.bin ?? binary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc.stdout.on('data', (d) => { this.logs += d })
    this.proc.stderr.on('data', (d) => { this.logs += d })
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })))
    const deadline = Date.now() + 120_000
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`aonode exited early (${this.proc.exitCode}):\n${this.logs}`)
      if (existsSync(infoFile)) {
        this.info = JSON.parse(readFileSync(infoFile, 'utf8'))
        return this
      }
      await sleep(100)
    }
    throw new Error(`aonode did not become ready in time:\n${this.logs}`)
  }

  async stop () {
    if (!this.proc || this.proc.exitCode !== null) return
    this.proc.kill('SIGTERM')
    const res = await Promise.race([this.exited, sleep(20_000).then(() => null)])
    if (!res) {
      this.proc.kill('SIGKILL')
      await this.exited
      throw new Error('aonode did not stop on SIGTERM within 20 s')
    }
    return res
  }

  async restart () {
    await this.stop()
    await this.start()
  }
}

// poll calls fn until it returns a truthy value or the timeout passes.
export async function poll (fn, { timeout = 30_000, interval = 200 } = {}) {
  const deadline = Date.now() + timeout
  let last
  while (Date.now() < deadline) {
    last = await fn()
    if (last) return last
    await sleep(interval)
  }
  throw new Error(`condition not met in ${timeout} ms; last value: ${JSON.stringify(last)}`)
}
