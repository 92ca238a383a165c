// The ceiling for bench:config: a bare node:http server answering the bytes and headers the
// real server answered (given by the parent), with nothing else to do. Own process, like the server.
import { createServer } from 'node:http';

process.once('message', ({ status, headers, body }) => {
  const bytes = Buffer.from(body, 'base64');
  const server = createServer((req, res) => {
    res.writeHead(status, headers);
    res.end(bytes);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
});
