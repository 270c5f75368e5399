// SDP helpers of the demo page, as lib-jitsi-meet does them toward a Jitsi bridge: build the
// remote description from the bridge's transport (the bridge offers), munge the local answer
// for SSRC simulcast, and read the answer's transport and sources back out. Pure functions.
'use strict';

const DemoSDP = (() => {
  const CRLF = '\r\n';

  // transportLines are the ICE and DTLS attributes of every bundled m-line: the bridge offers
  // setup actpass so the browser chooses active (signaling.md §4.2).
  function transportLines(t) {
    const out = ['a=ice-ufrag:' + t.ufrag, 'a=ice-pwd:' + t.pwd];
    for (const f of t.fingerprints || []) {
      out.push('a=fingerprint:' + f.hash + ' ' + f.value);
    }
    const setup = (t.fingerprints || []).map((f) => f.setup).find(Boolean) || 'actpass';
    out.push('a=setup:' + setup);
    return out;
  }

  function candidateLines(t) {
    const out = [];
    for (const c of t.candidates || []) {
      let l = 'a=candidate:' + [c.foundation, c.component, c.protocol, c.priority, c.ip, c.port, 'typ', c.type].join(' ');
      if (c.relAddr) l += ' raddr ' + c.relAddr + ' rport ' + c.relPort;
      out.push(l + ' generation ' + (c.generation || 0));
    }
    out.push('a=end-of-candidates');
    return out;
  }

  // fmtp joins Jingle <parameter/>s as lib-jitsi-meet does; a nameless parameter (RED's 111/111)
  // is its value alone. Jicofo's H264 value carries its own ';'-separated list and a trailing ';'.
  function fmtp(pt) {
    const ps = (pt.parameters || []).map((p) => (p.name ? p.name + '=' + p.value : p.value));
    return ps.join(';').replace(/;+$/, '');
  }

  function codecLines(media) {
    const out = [];
    for (const pt of media.payloadTypes) {
      let rtpmap = 'a=rtpmap:' + pt.id + ' ' + pt.name + '/' + pt.clockRate;
      if (pt.channels && pt.channels > 1) rtpmap += '/' + pt.channels;
      out.push(rtpmap);
      for (const fb of pt.rtcpFbs || []) {
        out.push('a=rtcp-fb:' + pt.id + ' ' + fb.type + (fb.subtype ? ' ' + fb.subtype : ''));
      }
      const f = fmtp(pt);
      if (f) out.push('a=fmtp:' + pt.id + ' ' + f);
    }
    return out;
  }

  // sourceLines signal one remote source in classic mode (media.md §2.3): its SSRC and, for
  // video, the FID RTX, with the owner as stream id, so the browser demultiplexes by SSRC (the
  // bridge strips the mid header extension).
  function sourceLines(src) {
    const out = [];
    for (const g of src.groups || []) out.push('a=ssrc-group:' + g.semantics + ' ' + g.ssrcs.join(' '));
    for (const ssrc of src.ssrcs) {
      out.push('a=ssrc:' + ssrc + ' cname:' + src.owner);
      out.push('a=ssrc:' + ssrc + ' msid:' + src.owner + ' ' + src.name);
    }
    out.push('a=msid:' + src.owner + ' ' + src.name);
    return out;
  }

  // buildOffer writes the bridge's offer. slots are the m-lines in order, which never change
  // position across renegotiations: {mid, kind: 'audio'|'video'|'application', direction,
  // source?: {name, owner, ssrcs, groups}}.
  function buildOffer({ transport, sctpPort, media, slots, sessionId, version }) {
    const byType = Object.fromEntries(media.map((m) => [m.type, m]));
    const lines = ['v=0', 'o=- ' + sessionId + ' ' + version + ' IN IP4 127.0.0.1', 's=-', 't=0 0',
      'a=group:BUNDLE ' + slots.map((s) => s.mid).join(' '), 'a=msid-semantic: WMS *'];
    if (media.some((m) => m.extmapAllowMixed)) lines.push('a=extmap-allow-mixed');
    const tl = transportLines(transport);
    const cl = candidateLines(transport);
    for (const slot of slots) {
      if (slot.kind === 'application') {
        lines.push('m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', ...tl, ...cl,
          'a=mid:' + slot.mid, 'a=sctp-port:' + sctpPort, 'a=max-message-size:262144');
        continue;
      }
      const m = byType[slot.kind];
      lines.push('m=' + slot.kind + ' 9 UDP/TLS/RTP/SAVPF ' + m.payloadTypes.map((p) => p.id).join(' '),
        'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', ...tl, ...cl, 'a=mid:' + slot.mid);
      for (const e of m.headerExtensions || []) lines.push('a=extmap:' + e.id + ' ' + e.uri);
      lines.push('a=' + slot.direction, 'a=rtcp-mux');
      if (slot.kind === 'video') lines.push('a=rtcp-rsize');
      lines.push(...codecLines(m));
      if (slot.source && slot.direction === 'sendonly') lines.push(...sourceLines(slot.source));
    }
    return lines.join(CRLF) + CRLF;
  }

  // sections splits an SDP into the session part and one array of lines per m-line.
  function sections(sdp) {
    const out = [[]];
    for (const line of sdp.split(/\r?\n/)) {
      if (!line) continue;
      if (line.startsWith('m=')) out.push([]);
      out[out.length - 1].push(line);
    }
    return out;
  }

  function join(secs) {
    return secs.flat().join(CRLF) + CRLF;
  }

  function findMid(secs, mid) {
    return secs.findIndex((s, i) => i > 0 && s.includes('a=mid:' + mid));
  }

  function randomSSRC(used) {
    for (;;) {
      const v = crypto.getRandomValues(new Uint32Array(1))[0];
      if (v !== 0 && !used.has(v)) return v;
    }
  }

  // mungeSimulcast adds two more simulcast layers to the video m-line of the local answer, as
  // lib-jitsi-meet does on Chromium (media.md §5; environment.md §6): two primary SSRCs with
  // their RTX, FID groups, and SIM(low, mid, high). cache keeps the extra SSRCs so every
  // renegotiation signals the same ones. Returns the SDP unchanged when there is nothing to do.
  function mungeSimulcast(sdp, mid, cache) {
    const secs = sections(sdp);
    const i = findMid(secs, mid);
    if (i < 0) return sdp;
    const sec = secs[i];
    if (!sec[0].startsWith('m=video') || sec.some((l) => l.startsWith('a=ssrc-group:SIM'))) return sdp;
    const ssrcLines = sec.filter((l) => l.startsWith('a=ssrc:'));
    if (ssrcLines.length === 0) return sdp; // not sending
    const fid = sec.find((l) => l.startsWith('a=ssrc-group:FID '));
    let primary;
    let rtx = 0;
    if (fid) {
      [primary, rtx] = fid.split(' ').slice(1).map(Number);
    } else {
      primary = Number(ssrcLines[0].slice('a=ssrc:'.length).split(' ')[0]);
    }
    const prefix = 'a=ssrc:' + primary + ' ';
    const attrs = ssrcLines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
    const used = new Set([primary, rtx]);
    if (!cache.primaries || cache.primaries.some((s) => used.has(s)) || (rtx && !cache.rtx)) {
      cache.primaries = [randomSSRC(used), 0];
      used.add(cache.primaries[0]);
      cache.primaries[1] = randomSSRC(used);
      used.add(cache.primaries[1]);
      cache.rtx = rtx ? [randomSSRC(used), 0] : null;
      if (cache.rtx) {
        used.add(cache.rtx[0]);
        cache.rtx[1] = randomSSRC(used);
      }
    }
    const added = [];
    cache.primaries.forEach((p, k) => {
      for (const a of attrs) added.push('a=ssrc:' + p + ' ' + a);
      if (rtx) for (const a of attrs) added.push('a=ssrc:' + cache.rtx[k] + ' ' + a);
    });
    if (rtx) cache.primaries.forEach((p, k) => added.push('a=ssrc-group:FID ' + p + ' ' + cache.rtx[k]));
    added.push('a=ssrc-group:SIM ' + [primary, ...cache.primaries].join(' '));
    const last = sec.map((l) => l.startsWith('a=ssrc')).lastIndexOf(true);
    sec.splice(last + 1, 0, ...added);
    return join(secs);
  }

  function attr(lines, name) {
    const l = lines.find((x) => x.startsWith('a=' + name + ':'));
    return l ? l.slice(name.length + 3) : '';
  }

  // parseCandidate reads an a=candidate line (RFC 8839 §5.1); null for what the bridge cannot
  // use: TCP, RTCP components and mDNS host names (the bridge learns such peers
  // peer-reflexively).
  function parseCandidate(line) {
    const f = line.replace(/^a=candidate:/, '').split(' ');
    if (f.length < 8 || f[6] !== 'typ') return null;
    const c = { foundation: f[0], component: Number(f[1]), protocol: f[2].toLowerCase(), priority: Number(f[3]),
      ip: f[4], port: Number(f[5]), type: f[7], generation: 0 };
    for (let k = 8; k + 1 < f.length; k += 2) {
      if (f[k] === 'raddr') c.relAddr = f[k + 1];
      if (f[k] === 'rport') c.relPort = Number(f[k + 1]);
      if (f[k] === 'generation') c.generation = Number(f[k + 1]);
    }
    const ipLiteral = /^[0-9.]+$/.test(c.ip) || c.ip.includes(':');
    if (c.protocol !== 'udp' || c.component !== 1 || !ipLiteral) return null;
    if (c.relAddr && !(/^[0-9.]+$/.test(c.relAddr) || c.relAddr.includes(':'))) {
      delete c.relAddr;
      delete c.relPort;
    }
    return c;
  }

  function sourceOf(sec, type) {
    const ssrcs = [];
    for (const l of sec) {
      if (!l.startsWith('a=ssrc:')) continue;
      const v = Number(l.slice('a=ssrc:'.length).split(' ')[0]);
      if (!ssrcs.includes(v)) ssrcs.push(v);
    }
    if (ssrcs.length === 0) return null;
    const groups = sec.filter((l) => l.startsWith('a=ssrc-group:')).map((l) => {
      const [semantics, ...rest] = l.slice('a=ssrc-group:'.length).split(' ');
      return { semantics, ssrcs: rest.map(Number) };
    });
    return type === 'audio' ? { type, ssrcs: ssrcs.slice(0, 1) } : { type, ssrcs, groups };
  }

  // parseAnswer reads what Jingle's session-accept carries from the applied local answer: the
  // first bundled m-line's transport (ufrag, pwd, fingerprint with setup, candidates) and the
  // sources of the sending audio and video m-lines.
  function parseAnswer(sdp, mids) {
    const secs = sections(sdp);
    const session = secs[0];
    const first = secs[1] || [];
    const get = (name) => attr(first, name) || attr(session, name);
    const [hash, value] = get('fingerprint').split(' ');
    const transport = { ufrag: get('ice-ufrag'), pwd: get('ice-pwd'),
      fingerprints: [{ hash: (hash || '').toLowerCase(), setup: get('setup'), value: value || '' }], candidates: [] };
    const seen = new Set();
    for (const l of first) {
      if (!l.startsWith('a=candidate:')) continue;
      const c = parseCandidate(l);
      if (!c || seen.has(c.ip + ' ' + c.port) || transport.candidates.length >= 16) continue;
      seen.add(c.ip + ' ' + c.port);
      transport.candidates.push(c);
    }
    const sources = [];
    for (const [type, mid] of [['audio', mids.audio], ['video', mids.video]]) {
      const i = findMid(secs, mid);
      const s = i < 0 ? null : sourceOf(secs[i], type);
      if (s) sources.push(s);
    }
    return { transport, sources };
  }

  return { buildOffer, mungeSimulcast, parseAnswer, parseCandidate, sections };
})();

if (typeof window !== 'undefined') window.DemoSDP = DemoSDP;
