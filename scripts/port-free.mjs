// Exits 1 with one line naming the port and TORA_PORT when the port Tora would listen on is taken,
// so scripts/start.sh says so before any install or build work. Usage: node port-free.mjs HOST PORT
import net from 'node:net';

const [host = '127.0.0.1', port = '8080'] = process.argv.slice(2);
const server = net.createServer();
server.once('error', (err) => {
  if (err.code === 'EADDRINUSE') {
    console.error(
      `tora: port ${port} on ${host} is already in use (another Tora?); stop it, or start on another port: TORA_PORT=${Number(port) + 1} bash scripts/start.sh`,
    );
    process.exit(1);
  }
  process.exit(0); // anything else (a bad TORA_PORT, no such address): the server explains it
});
server.listen({ host, port: Number(port), exclusive: true }, () => server.close(() => process.exit(0)));
