// The Node.js peer of the realtime scenario: socket.io 4 with one room per
// organization, as the seed design had it. Every client authenticates with
// a token (accepted as is: the scenario measures the socket layer); "listen"
// joins the room "org", anything else the room "idle". POST /broadcast emits
// one event to "org".
// Usage: node socketio.mjs PORT
import http from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] || 8082);
const videoShape = {
  id: 'aLZ2yQ8sY0mKp1Qd', organizationId: 'Qm9vb3RzdHJhcDEy', title: 'bench 0.123456789', description: '',
  status: 'ready', progress: null, error: null, originalFilename: 'c.mp4', sizeBytes: 12345, durationSec: 1.0,
  width: 160, height: 120, videoCodec: 'h264', audioCodec: null,
  renditions: [{ name: '120p', width: 160, height: 120, bandwidth: 123456 }],
  thumbnailUrl: '/api/stream/aLZ2yQ8sY0mKp1Qd/thumbnail.jpg', streamUrl: '/api/stream/aLZ2yQ8sY0mKp1Qd/video',
  hlsUrl: '/api/stream/aLZ2yQ8sY0mKp1Qd/hls/master.m3u8', createdBy: 'dXNlcmlkMTIzNDU2', createdAt: new Date().toISOString(),
  readyAt: new Date().toISOString(),
};
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/broadcast') {
    // The same shape and size as reel's video:updated payload, so that the
    // clients' parsing costs the same on both sides.
    io.to('org').emit('video:updated', { video: { ...videoShape, updatedAt: new Date().toISOString() } });
    res.writeHead(204).end();
    return;
  }
  res.writeHead(404).end();
});
const io = new Server(server, { cors: { origin: false } });
io.use((socket, next) => (socket.handshake.auth && socket.handshake.auth.token ? next() : next(new Error('unauthorized'))));
io.on('connection', (socket) => socket.join(socket.handshake.auth.token === 'listen' ? 'org' : 'idle'));
server.listen(port, '127.0.0.1', () => console.log(`listening port=${port}`));
