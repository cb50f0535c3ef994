// A loaders.gl loader for Mapbox Vector Tiles that parses on the main thread.
//
// The vendored deck.gl bundle ships MVTLayer with loaders.gl's worker-only MVT loader: its parser runs in a worker
// script fetched from a CDN, which this viewer never loads. Our tiles are small (one layer, a few thousand features
// at most), so decoding them here is quick. The result is what MVTLayer expects with `binary: false` and local
// coordinates: GeoJSON features whose coordinates run 0..1 across the tile, y downwards.

// Protocol buffer wire types used by the vector tile schema.
const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

class Reader {
  constructor(buffer) {
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.pos = 0;
  }

  varint() {
    let value = 0;
    let factor = 1;
    for (;;) {
      const byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * factor;
      if (byte < 0x80) return value;
      factor *= 128;
    }
  }

  zigzag() {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  string(end) {
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, end));
    this.pos = end;
    return text;
  }

  // Calls read(field, wireType, end) for every field of the message that ends at `end`.
  fields(end, read) {
    while (this.pos < end) {
      const key = this.varint();
      const field = key >> 3;
      const type = key & 7;
      const fieldEnd = type === BYTES ? this.varint() + this.pos : null;
      const before = this.pos;
      read(field, type, fieldEnd);
      if (this.pos === before) this.skip(type, fieldEnd);
    }
  }

  skip(type, fieldEnd) {
    if (type === VARINT) this.varint();
    else if (type === FIXED64) this.pos += 8;
    else if (type === FIXED32) this.pos += 4;
    else if (type === BYTES) this.pos = fieldEnd;
    else throw new Error(`vector tile: unknown protobuf wire type ${type}`);
  }

  packed(end) {
    const values = [];
    while (this.pos < end) values.push(this.varint());
    return values;
  }
}

function readValue(reader, end) {
  let value = null;
  reader.fields(end, (field, type, fieldEnd) => {
    if (field === 1) value = reader.string(fieldEnd);
    else if (field === 2) {
      value = reader.view.getFloat32(reader.pos, true);
      reader.pos += 4;
    } else if (field === 3) {
      value = reader.view.getFloat64(reader.pos, true);
      reader.pos += 8;
    } else if (field === 4 || field === 5) value = reader.varint();
    else if (field === 6) value = reader.zigzag();
    else if (field === 7) value = reader.varint() === 1;
  });
  return value;
}

// Geometry commands -> rings or lines of [x, y] in tile units.
function decodeGeometry(commands, extent) {
  const parts = [];
  let part = null;
  let x = 0;
  let y = 0;
  for (let i = 0; i < commands.length; ) {
    const command = commands[i] & 7;
    const count = commands[i] >> 3;
    i += 1;
    if (command === 7) {
      if (part && part.length > 0) part.push([...part[0]]); // ClosePath
      continue;
    }
    for (let n = 0; n < count; n++) {
      const dx = commands[i++];
      const dy = commands[i++];
      x += dx % 2 === 0 ? dx / 2 : -(dx + 1) / 2;
      y += dy % 2 === 0 ? dy / 2 : -(dy + 1) / 2;
      if (command === 1) {
        part = [];
        parts.push(part);
      }
      part.push([x / extent, y / extent]);
    }
  }
  return parts;
}

function signedArea(ring) {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    sum += (ring[j][0] - ring[i][0]) * (ring[i][1] + ring[j][1]);
  }
  return sum;
}

function toGeometry(type, parts) {
  if (type === 1) {
    const points = parts.flat();
    return points.length === 1 ? { type: "Point", coordinates: points[0] } : { type: "MultiPoint", coordinates: points };
  }
  if (type === 2) {
    return parts.length === 1 ? { type: "LineString", coordinates: parts[0] } : { type: "MultiLineString", coordinates: parts };
  }
  // Polygons: an exterior ring has a positive area in tile coordinates (y down), its holes a negative one.
  const polygons = [];
  for (const ring of parts) {
    const area = signedArea(ring);
    if (area === 0) continue;
    if (area < 0 && polygons.length > 0) polygons[polygons.length - 1].push(ring);
    else polygons.push([ring]);
  }
  return polygons.length === 1 ? { type: "Polygon", coordinates: polygons[0] } : { type: "MultiPolygon", coordinates: polygons };
}

function readLayer(reader, end, layerProperty) {
  const keys = [];
  const values = [];
  const raw = [];
  let name = "";
  let extent = 4096;
  reader.fields(end, (field, _type, fieldEnd) => {
    if (field === 1) name = reader.string(fieldEnd);
    else if (field === 2) raw.push([reader.pos, fieldEnd]);
    else if (field === 3) keys.push(reader.string(fieldEnd));
    else if (field === 4) values.push(readValue(reader, fieldEnd));
    else if (field === 5) extent = reader.varint();
  });
  const features = [];
  for (const [start, featureEnd] of raw) {
    reader.pos = start;
    let id = null;
    let tags = [];
    let type = 0;
    let commands = [];
    reader.fields(featureEnd, (field, _type, fieldEnd) => {
      if (field === 1) id = reader.varint();
      else if (field === 2) tags = reader.packed(fieldEnd);
      else if (field === 3) type = reader.varint();
      else if (field === 4) commands = reader.packed(fieldEnd);
    });
    const properties = {};
    for (let i = 0; i + 1 < tags.length; i += 2) properties[keys[tags[i]]] = values[tags[i + 1]];
    if (layerProperty) properties[layerProperty] = name;
    const parts = decodeGeometry(commands, extent);
    if (type < 1 || type > 3 || parts.length === 0) continue;
    features.push({ type: "Feature", id: id ?? undefined, properties, geometry: toGeometry(type, parts) });
  }
  reader.pos = end;
  return features;
}

export function parseMvt(arrayBuffer, options = {}) {
  const layerProperty = options.mvt?.layerProperty ?? "layerName";
  const reader = new Reader(arrayBuffer);
  const features = [];
  reader.fields(reader.bytes.length, (field, type, fieldEnd) => {
    if (field === 3 && type === BYTES) features.push(...readLayer(reader, fieldEnd, layerProperty));
  });
  return features;
}

export const MainThreadMVTLoader = {
  name: "Mapbox Vector Tile (main thread)",
  id: "mvt",
  module: "mvt",
  version: "twin3d",
  extensions: ["mvt", "pbf"],
  mimeTypes: ["application/vnd.mapbox-vector-tile", "application/x-protobuf"],
  category: "geometry",
  binary: true,
  worker: false,
  options: { mvt: { coordinates: "local", layerProperty: "layerName" } },
  parse: async (arrayBuffer, options) => parseMvt(arrayBuffer, options),
  parseSync: parseMvt,
};
