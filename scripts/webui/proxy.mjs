// proxy.mjs: serves a built web UI and forwards /api and /ready to the API, on one origin.
//
// Usage: node proxy.mjs DIST_DIR API_PORT PORT   (both ports on 127.0.0.1)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2], apiPort = Number(process.argv[3]), port = Number(process.argv[4]);
const types = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.svg': 'image/svg+xml' };
http.createServer((req, res) => {
  if (req.url.startsWith('/api/') || req.url.startsWith('/ready')) {
    const up = http.request({ host: '127.0.0.1', port: apiPort, path: req.url, method: req.method,
                              headers: { ...req.headers, host: `127.0.0.1:${apiPort}` } }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
    return;
  }
  let file = path.join(root, decodeURIComponent(req.url.split('?')[0]));
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory())
    file = path.join(root, 'index.html');
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
}).listen(port, '127.0.0.1');
