// Geodesy for measuring on the map, on the WGS 84 ellipsoid: lengths by Vincenty's inverse formula (against pyproj's
// Karney: a micrometre per kilometre), areas in Lambert's cylindrical equal-area projection of the ellipsoid
// (authalic latitude), which keeps areas exactly; that its straight edges are not geodesics costs 1e-10 of a town's
// square, 1e-6 of a 20 km one, 0.2 % of a 1,000 km one. And the figures as people read them: German number formats
// in German (1.234,5 m), m / km and m² / ha.

import { currentLang } from "./i18n.js";

// WGS 84.
const A = 6378137;
const F = 1 / 298.257223563;
const B = A * (1 - F);
const E2 = F * (2 - F);
const E = Math.sqrt(E2);
const RAD = Math.PI / 180;

// A longitude difference in degrees, folded into [-180, 180).
const lonDelta = (d) => ((((d + 180) % 360) + 360) % 360) - 180;

/**
 * The geodesic distance in metres between two [lon, lat] points on the WGS 84 ellipsoid (Vincenty's inverse
 * formula; it converges everywhere but near antipodes, where the last iterate is returned).
 */
export function geodesicDistance(from, to) {
  const L = lonDelta(to[0] - from[0]) * RAD;
  const U1 = Math.atan((1 - F) * Math.tan(from[1] * RAD));
  const U2 = Math.atan((1 - F) * Math.tan(to[1] * RAD));
  const [sinU1, cosU1, sinU2, cosU2] = [Math.sin(U1), Math.cos(U1), Math.sin(U2), Math.cos(U2)];
  let [lambda, sinSigma, cosSigma, sigma, cos2Alpha, cos2SigmaM] = [L, 0, 1, 0, 1, 0];
  for (let i = 0; i < 200; i += 1) {
    const [sinL, cosL] = [Math.sin(lambda), Math.cos(lambda)];
    sinSigma = Math.hypot(cosU2 * sinL, cosU1 * sinU2 - sinU1 * cosU2 * cosL);
    if (sinSigma === 0) return 0; // the same point
    cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
    sigma = Math.atan2(sinSigma, cosSigma);
    const sinAlpha = (cosU1 * cosU2 * sinL) / sinSigma;
    cos2Alpha = 1 - sinAlpha * sinAlpha;
    cos2SigmaM = cos2Alpha === 0 ? 0 : cosSigma - (2 * sinU1 * sinU2) / cos2Alpha; // 0 on the equator
    const C = (F / 16) * cos2Alpha * (4 + F * (4 - 3 * cos2Alpha));
    const previous = lambda;
    lambda = L + (1 - C) * F * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (2 * cos2SigmaM ** 2 - 1)));
    if (Math.abs(lambda - previous) < 1e-12) break;
  }
  const u2 = (cos2Alpha * (A * A - B * B)) / (B * B);
  const a = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
  const b = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
  const terms = cosSigma * (2 * cos2SigmaM ** 2 - 1) - (b / 6) * cos2SigmaM * (4 * sinSigma ** 2 - 3) * (4 * cos2SigmaM ** 2 - 3);
  return B * a * (sigma - b * sinSigma * (cos2SigmaM + (b / 4) * terms));
}

// The authalic function q(φ) of the ellipsoid; q / q(90°) is the sine of the authalic latitude.
const authalicQ = (sinPhi) =>
  (1 - E2) * (sinPhi / (1 - E2 * sinPhi * sinPhi) - Math.log((1 - E * sinPhi) / (1 + E * sinPhi)) / (2 * E));
const QP = authalicQ(1);
const RQ = A * Math.sqrt(QP / 2); // the radius of the sphere with the ellipsoid's area

/** The length in metres of a path of [lon, lat] points along geodesics. */
export function pathLength(points) {
  let total = 0;
  for (let i = 1; i < points.length; i += 1) total += geodesicDistance(points[i - 1], points[i]);
  return total;
}

/** The area in square metres of a polygon of [lon, lat] points (a ring, not closed) on the WGS 84 ellipsoid. */
export function polygonArea(points) {
  if (points.length < 3) return 0;
  const [lon0, lat0] = points[0];
  const y0 = authalicQ(Math.sin(lat0 * RAD)) / QP;
  // Relative to the first vertex, so that the shoelace sums small numbers (no cancellation of large ones).
  const xy = points.map(([lon, lat]) => [RQ * lonDelta(lon - lon0) * RAD, RQ * (authalicQ(Math.sin(lat * RAD)) / QP - y0)]);
  let twice = 0;
  for (let i = 0; i < xy.length; i += 1) {
    const [x1, y1] = xy[i];
    const [x2, y2] = xy[(i + 1) % xy.length];
    twice += x1 * y2 - x2 * y1;
  }
  return Math.abs(twice) / 2;
}

/** A number with exactly `digits` decimals in the page's language; `sign`: with + or - (none for 0). */
export function fixed(value, digits, sign = false) {
  const options = { minimumFractionDigits: digits, maximumFractionDigits: digits, signDisplay: sign ? "exceptZero" : "auto" };
  return new Intl.NumberFormat(currentLang() === "de" ? "de-DE" : "en-GB", options).format(value);
}

/** A length as people read it: 1.234,5 m in German (1,234.5 m in English), from 10 km on in km. */
export function formatLength(metres, sign = false) {
  return Math.abs(metres) < 10_000 ? `${fixed(metres, 1, sign)} m` : `${fixed(metres / 1000, 2, sign)} km`;
}

/** An area: m² below a hectare, ha from there on. */
export function formatArea(squareMetres) {
  return squareMetres < 10_000 ? `${fixed(squareMetres, 1)} m²` : `${fixed(squareMetres / 10_000, 2)} ha`;
}
