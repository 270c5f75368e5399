// The demo meeting page. It talks to the embedded focus over /demo/ws (join, accept, leave)
// and to the bridge like lib-jitsi-meet: one RTCPeerConnection whose remote description is
// built from the bridge's transport, 3-layer SSRC simulcast, and the bridge channel (SCTP data
// channel, or colibri-ws when the bridge offers no SCTP) for video constraints and events.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  // Simulcast as lib-jitsi-meet sends VP8 from a 720p camera (media.md §5).
  const LAYER_SCALE = [4, 2, 1];
  const LAYER_BITRATE = [200e3, 500e3, 1.5e6];
  const LAYER_HEIGHT = [180, 360, 720];
  const TILE_HEIGHT = 180;
  const STAGE_HEIGHT = 720;
  const AUDIO_MID = '0';
  const VIDEO_MID = '1';
  const DATA_MID = '2';

  // state is what the page knows; window.demo.state() returns a copy for tests and debugging.
  const state = {
    phase: 'idle', // idle, joining, joined
    room: '', name: '', endpointId: '',
    participants: new Map(), // id -> {id, name, sources: []}
    stage: null, // source name on stage, or null for the tile view
    dominant: null, dominantEvents: 0,
    channel: { kind: null, open: false, opened: 0, received: 0, sent: 0, classes: {}, url: null },
    senderMaxHeight: -1,
    forwarded: null,
    negotiations: 0, accepted: false,
    iceState: 'new', connectionState: 'new',
    mediaNote: '',
    remote: {}, // source name -> receive stats
    local: [], // outbound video layers
    encodings: null,
    errors: [],
  };

  let sig = null; // signalling WebSocket
  let pc = null;
  let localStream = null;
  let offer = null; // {transport, sctpPort, media}
  let slots = [];
  let nextMid = 0;
  let version = 0;
  const sessionId = String(Math.floor(Math.random() * 1e15));
  let simulcastCache = {};
  let negotiation = Promise.resolve();
  let channel = null; // {send(text), close()}
  let statsTimer = 0;
  let lastConstraints = '';
  const prevStats = new Map();

  function fail(where, err) {
    const msg = where + ': ' + (err && err.message ? err.message : String(err));
    state.errors.push(msg);
    console.error(msg);
    $('meeting-error').textContent = msg;
  }

  // ---- signalling ----

  function signal(msg) {
    if (sig && sig.readyState === WebSocket.OPEN) sig.send(JSON.stringify(msg));
  }

  async function join(room, name) {
    $('join-error').textContent = '';
    $('join-button').disabled = true;
    state.phase = 'joining';
    state.mediaNote = '';
    state.room = room;
    state.name = name;
    localStream = await openMedia();
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    sig = new WebSocket(scheme + location.host + '/demo/ws');
    sig.onopen = () => signal({ type: 'join', room, name });
    sig.onmessage = (e) => onSignal(JSON.parse(e.data));
    sig.onclose = () => {
      if (state.phase !== 'idle') {
        teardown();
        joinFailed('the connection to the bridge closed');
      }
    };
  }

  // openMedia asks for the camera (720p, the top simulcast layer) and the microphone, and falls
  // back to either one, then to receiving only, so a machine without a camera can still watch.
  async function openMedia() {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    let why = '';
    for (const c of [{ audio: true, video }, { audio: true }, { video }]) {
      try {
        return await navigator.mediaDevices.getUserMedia(c);
      } catch (err) {
        why = why || err.message;
      }
    }
    state.mediaNote = 'No camera or microphone (' + why + '): receiving only.';
    return new MediaStream();
  }

  function joinFailed(msg) {
    state.phase = 'idle';
    $('join-error').textContent = msg;
    $('join-button').disabled = false;
    $('join').hidden = false;
    $('meeting').hidden = true;
  }

  function onSignal(m) {
    switch (m.type) {
      case 'joined': onJoined(m); break;
      case 'participant-joined': addParticipant(m.participant); break;
      case 'sources': addParticipant(m.participant); assignSlots(); renegotiate(); break;
      case 'participant-left': removeParticipant(m.id); break;
      case 'error': onSignalError(m); break;
      default: console.warn('unknown signalling message', m);
    }
  }

  function onSignalError(m) {
    state.errors.push(m.code + ': ' + m.message);
    if (m.request === 'join' || m.code === 'conference-ended') {
      teardown();
      joinFailed(m.message);
      return;
    }
    $('meeting-error').textContent = m.message;
  }

  function onJoined(m) {
    state.phase = 'joined';
    state.endpointId = m.endpointId;
    offer = { transport: m.transport, sctpPort: m.sctpPort || 0, media: m.media };
    $('join').hidden = true;
    $('meeting').hidden = false;
    $('room-label').textContent = 'Room ' + m.room + ' — ' + state.name;
    $('meeting-error').textContent = state.mediaNote;
    history.replaceState(null, '', '?room=' + encodeURIComponent(m.room));
    slots = [{ mid: AUDIO_MID, kind: 'audio', direction: 'recvonly', local: true },
      { mid: VIDEO_MID, kind: 'video', direction: 'recvonly', local: true }];
    if (offer.sctpPort) slots.push({ mid: DATA_MID, kind: 'application', local: true });
    nextMid = slots.length;
    addTile(state.endpointId, state.name + ' (you)', true).querySelector('video').srcObject = localStream;
    for (const p of m.participants || []) addParticipant(p);
    assignSlots();
    startPeerConnection();
    statsTimer = setInterval(collectStats, 1000);
  }

  function addParticipant(p) {
    const known = state.participants.get(p.id);
    const sources = (p.sources || []).map((s) => ({ ...s, owner: p.id }));
    state.participants.set(p.id, { id: p.id, name: p.name, sources: sources.length ? sources : (known ? known.sources : []) });
    if (!$('tile-' + p.id)) addTile(p.id, p.name, false);
  }

  function removeParticipant(id) {
    const p = state.participants.get(id);
    state.participants.delete(id);
    const tile = $('tile-' + id);
    if (tile) tile.remove();
    if (p && p.sources.some((s) => s.name === state.stage)) setStage(null);
    for (const slot of slots) {
      if (slot.source && slot.source.owner === id) {
        delete state.remote[slot.source.name];
        slot.source = null;
        slot.direction = 'inactive';
      }
    }
    renegotiate();
  }

  // assignSlots gives every remote source an m-line: a free one of its kind (freed by someone
  // who left) or a new one at the end, since m-lines never move or disappear.
  function assignSlots() {
    for (const p of state.participants.values()) {
      for (const src of p.sources) {
        if (slots.some((s) => s.source && s.source.name === src.name)) continue;
        let slot = slots.find((s) => !s.local && !s.source && s.kind === src.type);
        if (!slot) {
          slot = { mid: String(nextMid++), kind: src.type, local: false };
          slots.push(slot);
        }
        slot.source = src;
        slot.direction = 'sendonly';
      }
    }
  }

  // ---- peer connection ----

  function startPeerConnection() {
    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.oniceconnectionstatechange = () => { state.iceState = pc.iceConnectionState; showStatus(); };
    pc.onconnectionstatechange = () => { state.connectionState = pc.connectionState; showStatus(); };
    if (offer.sctpPort) {
      // The client opens the channel (media.md §1.1); DCEP negotiates it in-band.
      const dc = pc.createDataChannel('JVB data channel', { protocol: 'http://jitsi.org/protocols/colibri' });
      useDataChannel(dc);
    }
    negotiation = negotiation.then(() => negotiate(true)).catch((err) => fail('negotiation', err));
    if (!offer.sctpPort) {
      const url = (offer.transport.webSockets || [])[0];
      if (url) openColibriWebSocket(url, 0);
      else fail('bridge channel', 'the bridge offers neither SCTP nor colibri-ws');
    }
  }

  function renegotiate() {
    if (!pc) return;
    negotiation = negotiation.then(() => negotiate(false)).catch((err) => fail('renegotiation', err));
  }

  function transceiver(mid) {
    return pc.getTransceivers().find((t) => t.mid === mid);
  }

  async function negotiate(first) {
    if (!pc || pc.signalingState === 'closed') return;
    version++;
    const sdp = DemoSDP.buildOffer({ transport: offer.transport, sctpPort: offer.sctpPort, media: offer.media,
      slots, sessionId, version });
    await pc.setRemoteDescription({ type: 'offer', sdp });
    if (first) await attachLocalTracks();
    const answer = await pc.createAnswer();
    const munged = DemoSDP.mungeSimulcast(answer.sdp, VIDEO_MID, simulcastCache);
    await pc.setLocalDescription({ type: 'answer', sdp: munged });
    await configureEncodings();
    attachRemoteMedia();
    if (first) {
      await gatheringComplete(3000);
      const a = DemoSDP.parseAnswer(pc.localDescription.sdp, { audio: AUDIO_MID, video: VIDEO_MID });
      signal({ type: 'accept', transport: a.transport, sources: a.sources });
      state.accepted = true;
    }
    state.negotiations++;
    sendConstraints(false);
  }

  async function attachLocalTracks() {
    const pairs = [[AUDIO_MID, localStream.getAudioTracks()[0]], [VIDEO_MID, localStream.getVideoTracks()[0]]];
    for (const [mid, track] of pairs) {
      const t = transceiver(mid);
      if (!t || !track) continue;
      t.direction = 'sendonly';
      await t.sender.replaceTrack(track);
      t.sender.setStreams(localStream);
    }
  }

  function gatheringComplete(ms) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  // encodingActive follows the bridge's SenderSourceConstraints as lib-jitsi-meet does: layers
  // above the largest height any receiver wants are switched off; 0 switches off all.
  function encodingActive(i) {
    const max = state.senderMaxHeight;
    if (max < 0) return true;
    if (max === 0) return false;
    return i === 0 || LAYER_HEIGHT[i] <= max;
  }

  // configureEncodings sets the three layers after the munged answer is applied (environment.md
  // §6): scale 4/2/1, lib-jitsi-meet's VP8 bitrates, and VP8 chosen per encoding, because the
  // answer lists Jicofo's AV1 first and Chrome would otherwise send AV1.
  async function configureEncodings() {
    const t = transceiver(VIDEO_MID);
    if (!t || !t.sender.track) return;
    const p = t.sender.getParameters();
    state.encodings = p.encodings ? p.encodings.length : 0;
    if (!p.encodings || p.encodings.length !== LAYER_SCALE.length) return;
    const vp8 = (p.codecs || []).find((c) => /^video\/vp8$/i.test(c.mimeType));
    let changed = false;
    p.encodings.forEach((e, i) => {
      const want = { scaleResolutionDownBy: LAYER_SCALE[i], maxBitrate: LAYER_BITRATE[i], active: encodingActive(i) };
      for (const [k, v] of Object.entries(want)) {
        if (e[k] !== v) { e[k] = v; changed = true; }
      }
      if (vp8 && (!e.codec || !/^video\/vp8$/i.test(e.codec.mimeType))) {
        e.codec = { mimeType: vp8.mimeType, clockRate: vp8.clockRate };
        changed = true;
      }
    });
    if (!changed) return;
    // Keep the resolution when the CPU is short, so the layers stay 180/360/720.
    p.degradationPreference = 'maintain-resolution';
    try {
      await t.sender.setParameters(p);
    } catch (err) {
      delete p.degradationPreference;
      await t.sender.setParameters(p);
    }
  }

  function attachRemoteMedia() {
    for (const slot of slots) {
      if (slot.local || !slot.source) continue;
      const t = transceiver(slot.mid);
      const tile = $('tile-' + slot.source.owner);
      if (!t || !tile) continue;
      slot.receiver = t.receiver;
      const el = tile.querySelector(slot.kind === 'video' ? 'video' : 'audio');
      const cur = el.srcObject && el.srcObject.getTracks()[0];
      if (cur !== t.receiver.track) {
        el.srcObject = new MediaStream([t.receiver.track]);
        el.play().catch(() => {}); // autoplay may wait for a gesture; the stats still count
      }
    }
  }

  // ---- bridge channel ----

  function useDataChannel(dc) {
    state.channel.kind = 'sctp';
    channel = { send: (text) => dc.send(text), close: () => dc.close(), isOpen: () => dc.readyState === 'open' };
    dc.onopen = () => channelOpened();
    dc.onclose = () => { state.channel.open = false; showStatus(); };
    dc.onmessage = (e) => onBridgeMessage(e.data);
  }

  // openColibriWebSocket dials the colibri-ws URL of the transport, retrying like
  // lib-jitsi-meet's BridgeChannel: after 1 s, 2 s, 4 s … up to 60 s (media.md §1.2).
  function openColibriWebSocket(url, attempt) {
    state.channel.kind = 'websocket';
    state.channel.url = url;
    const ws = new WebSocket(url);
    let closedByUs = false;
    channel = {
      send: (text) => ws.send(text),
      close: () => { closedByUs = true; ws.close(1000); },
      isOpen: () => ws.readyState === WebSocket.OPEN,
    };
    ws.onopen = () => { attempt = 0; channelOpened(); };
    ws.onmessage = (e) => onBridgeMessage(e.data);
    ws.onclose = (e) => {
      state.channel.open = false;
      showStatus();
      if (closedByUs || state.phase !== 'joined') return;
      if (e.code === 1001 && state.participants.size === 0) return; // graceful: alone and ended
      const delay = Math.min(60, 2 ** attempt) * 1000;
      setTimeout(() => { if (state.phase === 'joined') openColibriWebSocket(url, attempt + 1); }, delay);
    };
  }

  function channelOpened() {
    state.channel.open = true;
    state.channel.opened++;
    showStatus();
    sendConstraints(true); // RTC.js sends the cached constraints on open
  }

  function onBridgeMessage(text) {
    let m;
    try { m = JSON.parse(text); } catch (err) { return; }
    if (!m || typeof m.colibriClass !== 'string') return;
    state.channel.received++;
    state.channel.classes[m.colibriClass] = (state.channel.classes[m.colibriClass] || 0) + 1;
    switch (m.colibriClass) {
      case 'DominantSpeakerEndpointChangeEvent':
        state.dominant = m.dominantSpeakerEndpoint;
        state.dominantEvents++;
        for (const tile of document.querySelectorAll('.tile')) {
          tile.classList.toggle('speaking', tile.dataset.id === state.dominant);
        }
        break;
      case 'SenderSourceConstraints':
        if (m.sourceName === state.endpointId + '-v0' && typeof m.maxHeight === 'number') {
          state.senderMaxHeight = m.maxHeight;
          negotiation = negotiation.then(configureEncodings).catch((err) => fail('encodings', err));
        }
        break;
      case 'ForwardedSources':
        state.forwarded = m.forwardedSources;
        break;
      default:
    }
  }

  function remoteVideoSources() {
    return slots.filter((s) => !s.local && s.source && s.kind === 'video').map((s) => s.source.name);
  }

  // sendConstraints tells the bridge what this page shows (media.md §1.3): 180p tiles, or the
  // staged source at 720p with the others at 180p.
  function sendConstraints(force) {
    if (!channel || !channel.isOpen()) return;
    const constraints = {};
    for (const name of remoteVideoSources()) {
      constraints[name] = { maxHeight: state.stage && name === state.stage ? STAGE_HEIGHT : TILE_HEIGHT };
    }
    const msg = { colibriClass: 'ReceiverVideoConstraints', lastN: -1, selectedSources: [],
      onStageSources: state.stage ? [state.stage] : [], defaultConstraints: { maxHeight: TILE_HEIGHT }, constraints };
    const text = JSON.stringify(msg);
    if (!force && text === lastConstraints) return;
    lastConstraints = text;
    try {
      channel.send(text);
      state.channel.sent++;
    } catch (err) {
      fail('bridge channel', err);
    }
  }

  // ---- layout ----

  function addTile(id, name, local) {
    const tile = document.createElement('div');
    tile.className = 'tile' + (local ? ' local' : '');
    tile.id = 'tile-' + id;
    tile.dataset.id = id;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true;
    tile.append(video);
    if (!local) {
      const audio = document.createElement('audio');
      audio.autoplay = true;
      tile.append(audio);
    }
    const label = document.createElement('div');
    label.className = 'name';
    label.textContent = name;
    const stats = document.createElement('div');
    stats.className = 'stats';
    const badge = document.createElement('div');
    badge.className = 'badge';
    badge.textContent = 'speaking';
    tile.append(label, stats, badge);
    if (!local) tile.addEventListener('click', () => toggleStage(id));
    $('tiles').append(tile);
    return tile;
  }

  function toggleStage(id) {
    const p = state.participants.get(id);
    const src = p && p.sources.find((s) => s.type === 'video');
    const name = src ? src.name : id + '-v0';
    setStage(state.stage === name ? null : name);
  }

  function setStage(name) {
    state.stage = name;
    $('tiles').className = name ? 'stage-view' : 'tile-view';
    for (const tile of document.querySelectorAll('.tile')) {
      tile.classList.toggle('on-stage', !!name && name === tile.dataset.id + '-v0');
    }
    sendConstraints(false);
  }

  function showStatus() {
    const ch = state.channel.kind ? state.channel.kind + (state.channel.open ? ' open' : ' closed') : 'none';
    $('status').textContent = 'ICE ' + state.iceState + ' · bridge channel ' + ch;
  }

  // ---- stats ----

  async function collectStats() {
    if (!pc) return;
    const now = performance.now();
    for (const slot of slots) {
      if (slot.local || !slot.source || !slot.receiver) continue;
      let best = null;
      (await slot.receiver.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && (!best || r.packetsReceived > best.packetsReceived)) best = r;
      });
      if (!best || !slot.source) continue;
      const prev = prevStats.get(slot.source.name);
      const kbps = prev ? ((best.bytesReceived - prev.bytes) * 8) / (now - prev.t) : 0;
      const lost = prev ? best.packetsLost - prev.lost : 0;
      const got = prev ? best.packetsReceived - prev.received : 0;
      const loss = got + lost > 0 ? (100 * Math.max(0, lost)) / (got + lost) : 0;
      prevStats.set(slot.source.name, { t: now, bytes: best.bytesReceived, lost: best.packetsLost, received: best.packetsReceived });
      const s = { owner: slot.source.owner, kind: slot.kind, ssrc: best.ssrc, packetsReceived: best.packetsReceived,
        packetsLost: best.packetsLost, bytesReceived: best.bytesReceived, kbps: Math.round(kbps), lossPercent: Math.round(loss * 10) / 10 };
      if (slot.kind === 'video') {
        Object.assign(s, { framesDecoded: best.framesDecoded || 0, frameWidth: best.frameWidth || 0,
          frameHeight: best.frameHeight || 0, fps: best.framesPerSecond || 0, codec: codecName(best) });
        const tile = $('tile-' + slot.source.owner);
        if (tile) {
          tile.querySelector('.stats').textContent = s.frameWidth + 'x' + s.frameHeight + ' ' + Math.round(s.fps) +
            ' fps\n' + s.kbps + ' kbps, loss ' + s.lossPercent + '%';
        }
      } else {
        Object.assign(s, { totalAudioEnergy: best.totalAudioEnergy || 0, audioLevel: best.audioLevel || 0,
          totalSamplesReceived: best.totalSamplesReceived || 0 });
      }
      s.codecId = best.codecId;
      state.remote[slot.source.name] = s;
    }
    await collectLocalStats();
  }

  function codecName(r) {
    return r.decoderImplementation || '';
  }

  async function collectLocalStats() {
    const t = transceiver(VIDEO_MID);
    if (!t) return;
    const layers = [];
    (await t.sender.getStats()).forEach((r) => {
      if (r.type === 'outbound-rtp') {
        layers.push({ ssrc: r.ssrc, frameHeight: r.frameHeight || 0, fps: r.framesPerSecond || 0,
          bytesSent: r.bytesSent, active: r.active, qualityLimitationReason: r.qualityLimitationReason });
      }
    });
    state.local = layers.sort((a, b) => a.frameHeight - b.frameHeight);
  }

  // ---- leaving ----

  function teardown() {
    state.phase = 'idle';
    clearInterval(statsTimer);
    if (channel) channel.close();
    channel = null;
    if (pc) pc.close();
    pc = null;
    if (localStream) for (const t of localStream.getTracks()) t.stop();
    localStream = null;
    if (sig) {
      sig.onclose = null;
      sig.close();
    }
    sig = null;
    slots = [];
    simulcastCache = {};
    negotiation = Promise.resolve();
    lastConstraints = '';
    state.participants.clear();
    state.stage = null;
    state.channel = { kind: null, open: false, opened: 0, received: 0, sent: 0, classes: {}, url: null };
    state.remote = {};
    $('tiles').replaceChildren();
    $('tiles').className = 'tile-view';
  }

  function leave() {
    signal({ type: 'leave' });
    teardown();
    joinFailed('');
  }

  // ---- start ----

  function snapshot() {
    return JSON.parse(JSON.stringify({ ...state, participants: [...state.participants.values()] }));
  }

  window.demo = { state: snapshot, stage: (name) => setStage(name || null) };

  const params = new URLSearchParams(location.search);
  $('room').value = params.get('room') || '';
  $('name').value = params.get('name') || localStorage.getItem('demo-name') || '';
  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    localStorage.setItem('demo-name', $('name').value);
    join($('room').value.trim(), $('name').value.trim());
  });
  $('leave').addEventListener('click', leave);
  if (params.get('autojoin') === '1' && $('room').value && $('name').value) {
    join($('room').value.trim(), $('name').value.trim());
  }
})();
