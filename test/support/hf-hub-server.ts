/**
 * A stand-in for huggingface.co, enough of its download protocol for the real huggingface_hub
 * (2.x) in the mlx-lm venv, pointed here with HF_ENDPOINT:
 * - `GET /api/models/{repo}/revision/{rev}` (`?blobs=true`): id, sha, siblings with size and lfs;
 * - `HEAD|GET /{repo}/resolve/{rev}/{file}`: small files answered directly (ETag = git blob id),
 *   large ("LFS") files redirected to `/cdn/{sha256}` with X-Linked-Etag/X-Linked-Size, as the
 *   Hub does; every answer carries X-Repo-Commit;
 * - `GET /cdn/{sha256}` with `Range: bytes=N-` (206 + Content-Range), optionally throttled.
 * It counts the bytes it sends, so a test can tell a resumed download from a restarted one.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface HubFile {
  name: string;
  path: string;
  size: number;
  /** sha256 of the content (the LFS oid), for large files; the git blob sha1 for small ones. */
  etag: string;
  lfs: boolean;
}

export interface HubRepo {
  id: string;
  commit: string;
  files: HubFile[];
}

export interface HubServerOptions {
  /** Bytes per second for file bodies (undefined: as fast as possible). */
  bytesPerSecond?: number;
  /** Files at least this big are served the LFS way (default 1 MiB). */
  lfsThreshold?: number;
}

export interface HubServer {
  url: string;
  repo: HubRepo;
  /** File-body bytes sent so far (HEAD and API answers not counted). */
  bytesServed(): number;
  /** Every GET of a file body, with the Range it asked for. */
  requests(): { file: string; range: string | undefined; status: number }[];
  resetCounters(): void;
  setBytesPerSecond(rate: number | undefined): void;
  close(): Promise<void>;
}

/** Serves the files of `dir` (flat) as the Hugging Face repo `repoId`. */
export async function startHubServer(repoId: string, dir: string, options: HubServerOptions = {}): Promise<HubServer> {
  const repo = await describeRepo(repoId, dir, options.lfsThreshold ?? 1024 * 1024);
  let rate = options.bytesPerSecond;
  let served = 0;
  let log: { file: string; range: string | undefined; status: number }[] = [];

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  };
  // The Hub redirects large files to a CDN on another host, and huggingface_hub reads their metadata
  // from the redirect itself only when the target is another origin: here, a second port.
  const server = createServer(onRequest);
  const cdn = createServer(onRequest);
  let cdnUrl = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = decodeURIComponent(url.pathname);
    const common = { 'x-repo-commit': repo.commit };
    const apiPrefix = `/api/models/${repo.id}`;
    if (pathname === apiPrefix || pathname.startsWith(`${apiPrefix}/revision/`)) {
      const siblings = repo.files.map((f) => ({
        rfilename: f.name,
        size: f.size,
        blobId: f.lfs ? createHash('sha1').update(f.etag).digest('hex') : f.etag,
        ...(f.lfs ? { lfs: { size: f.size, sha256: f.etag, pointerSize: 134 } } : {}),
      }));
      return json(res, 200, { _id: 'local', id: repo.id, modelId: repo.id, sha: repo.commit, private: false, tags: ['mlx'], siblings }, common);
    }
    if (pathname.startsWith('/api/')) return json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    const resolvePrefix = `/${repo.id}/resolve/`;
    if (pathname.startsWith(resolvePrefix)) {
      const [, ...rest] = pathname.slice(resolvePrefix.length).split('/');
      const file = repo.files.find((f) => f.name === rest.join('/'));
      if (file === undefined) return json(res, 404, { error: 'Entry not found' }, { ...common, 'x-error-code': 'EntryNotFound' });
      if (file.lfs) {
        res.writeHead(302, { ...common, location: `${cdnUrl}/cdn/${file.etag}`, 'x-linked-etag': `"${file.etag}"`, 'x-linked-size': String(file.size), etag: `"${file.etag}"`, 'content-length': '0' });
        res.end();
        return;
      }
      return sendBody(req, res, file, { ...common, etag: `"${file.etag}"` });
    }
    if (pathname.startsWith('/cdn/')) {
      const file = repo.files.find((f) => f.lfs && f.etag === pathname.slice('/cdn/'.length));
      if (file === undefined) return json(res, 404, { error: 'no such blob' });
      return sendBody(req, res, file, { etag: `"${file.etag}"` });
    }
    return json(res, 404, { error: `not found: ${pathname}` }, { 'x-error-code': 'RepoNotFound' });
  }

  function sendBody(req: IncomingMessage, res: ServerResponse, file: HubFile, headers: Record<string, string>): void {
    const range = req.headers.range;
    const start = range === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? NaN);
    if (!Number.isInteger(start) || start > file.size) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${file.size}` });
      res.end();
      return;
    }
    const status = range === undefined ? 200 : 206;
    const length = file.size - start;
    res.writeHead(status, {
      ...headers,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'content-length': String(length),
      ...(status === 206 ? { 'content-range': `bytes ${start}-${file.size - 1}/${file.size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    log.push({ file: file.name, range, status });
    if (length === 0) {
      res.end();
      return;
    }
    const stream = createReadStream(file.path, { start, highWaterMark: 256 * 1024 });
    const began = Date.now();
    let sent = 0;
    stream.on('data', (chunk) => {
      const n = chunk.length;
      sent += n;
      served += n;
      const ok = res.write(chunk);
      const ahead = rate === undefined ? 0 : (sent / rate) * 1000 - (Date.now() - began);
      if (!ok || ahead > 0) {
        stream.pause();
        const resume = (): void => void setTimeout(() => stream.resume(), Math.max(0, ahead));
        if (ok) resume();
        else res.once('drain', resume);
      }
    });
    stream.on('end', () => res.end());
    stream.on('error', (error) => res.destroy(error));
    res.on('close', () => stream.destroy());
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    repo,
    bytesServed: () => served,
    requests: () => [...log],
    resetCounters: () => {
      served = 0;
      log = [];
    },
    setBytesPerSecond: (value) => {
      rate = value;
    },
    close: async () => {
      await Promise.all(
        [server, cdn].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}

async function describeRepo(id: string, dir: string, lfsThreshold: number): Promise<HubRepo> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  const files: HubFile[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    const { size } = await stat(full);
    const lfs = size >= lfsThreshold;
    files.push({ name, path: full, size, lfs, etag: lfs ? await sha256File(full) : gitBlobSha(await readFile(full)) });
  }
  const commit = createHash('sha1').update(files.map((f) => `${f.name}:${f.etag}`).join('\n')).digest('hex');
  return { id, commit, files };
}

function gitBlobSha(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
