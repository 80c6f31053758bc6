// The console's one WebSocket to /api/v1/live: reconnects with back-off, hands each pushed
// message to the listeners of its type, and re-sends the current tail after a reconnect.

import { api } from './api.js';

const RECONNECT_DELAY_MAX_MS = 10000;
/** Stats pushes kept so a chart opened later starts with the last minutes, not empty. */
export const STATS_HISTORY_MAX = 120;

class LiveConnection {
  constructor() {
    this.listeners = new Map();
    this.socket = null;
    this.tailTopic = null;
    this.reconnectDelayMs = 500;
    this.statusElement = null;
    this.history = [];
    this.on('stats', (stats) => {
      this.history.push(stats);
      if (this.history.length > STATS_HISTORY_MAX) this.history.shift();
    });
  }

  /** Opens the socket; with authentication on, a refused or closed socket checks the session. */
  start(statusElement, authenticated = false) {
    this.statusElement = statusElement;
    this.authenticated = authenticated;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/live`);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.reconnectDelayMs = 500;
      this.showStatus('live', 'ok');
      if (this.tailTopic) this.send({ type: 'tail', topic: this.tailTopic });
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      // After a reconnect the node repeats its latest sample; a chart takes each one once.
      if (message.type === 'stats') {
        if (this.history.length > 0 && message.at <= this.history[this.history.length - 1].at) return;
      }
      for (const listener of this.listeners.get(message.type) ?? []) listener(message);
    });
    socket.addEventListener('close', () => {
      this.socket = null;
      // The node refuses the upgrade without a session and closes the socket when it ends;
      // the browser does not say which, so the session is asked (api() opens the login page on 401).
      if (this.authenticated) api('GET', '/api/v1/whoami').catch(() => undefined);
      this.showStatus('reconnecting', 'fail');
      setTimeout(() => this.connect(), this.reconnectDelayMs);
      this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, RECONNECT_DELAY_MAX_MS);
    });
  }

  showStatus(text, kind) {
    if (!this.statusElement) return;
    this.statusElement.textContent = text;
    this.statusElement.className = `live-status ${kind}`;
  }

  /** Calls listener for every message of this type; returns the function that stops it. */
  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type).delete(listener);
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  tail(topic) {
    this.tailTopic = topic;
    this.send({ type: 'tail', topic });
  }

  untail() {
    if (this.tailTopic === null) return;
    this.tailTopic = null;
    this.send({ type: 'untail' });
  }
}

export const live = new LiveConnection();
