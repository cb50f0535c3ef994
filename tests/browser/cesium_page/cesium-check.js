// Loads one twin3d tileset in a bare CesiumWidget and exposes what a test needs on window.__cesium:
// readiness signals, camera placement, projection to window pixels, picking and the last clicked feature.
// The tileset URL comes from the query string (?tileset=/tiles/lauf/tileset.json).
/* global Cesium */

const state = {
  tilesetReady: false,
  frames: 0,
  allTilesLoadedEvents: 0,
  tileFailures: [],
  renderErrors: [],
  picked: null,
  clicks: 0,
};
window.__cesium = state;

// No Cesium ion: nothing may be requested from outside this origin.
Cesium.Ion.defaultAccessToken = "";

const widget = new Cesium.CesiumWidget("cesium", {
  baseLayer: false, // no imagery
  terrainProvider: new Cesium.EllipsoidTerrainProvider(),
  shouldAnimate: false,
  msaaSamples: 1, // software rendering: keep frames cheap
  showRenderLoopErrors: false,
});
const scene = widget.scene;
// A fixed midday in summer, so the sun lights the buildings the same way on every run.
widget.clock.currentTime = Cesium.JulianDate.fromIso8601("2024-06-21T10:00:00Z");
// A dark green ground, far from the light grey of the untextured buildings, so the pixel check can tell them apart.
scene.globe.baseColor = Cesium.Color.fromCssColorString("#4f6d4a");
scene.renderError.addEventListener((_scene, error) => {
  state.renderErrors.push(String(error));
  console.error(`Cesium render error: ${error}`);
});
scene.postRender.addEventListener(() => {
  state.frames += 1;
});

function describe(picked) {
  if (!(picked instanceof Cesium.Cesium3DTileFeature)) {
    return picked === undefined ? null : { kind: picked?.constructor?.name ?? typeof picked };
  }
  const out = { kind: "Cesium3DTileFeature", featureId: picked.featureId, propertyIds: picked.getPropertyIds() };
  for (const name of out.propertyIds) {
    out[name] = picked.getProperty(name);
  }
  try {
    // Which metadata class Cesium resolved the property table to (internal API; for diagnostics only).
    out.className = picked.content.batchTable._propertyTable.class.id;
  } catch {
    out.className = null;
  }
  return out;
}

state.tilesLoaded = () => Boolean(state.tileset && state.tileset.tilesLoaded);

state.lookAt = (lon, lat, height, range, headingDeg, pitchDeg) => {
  const target = Cesium.Cartesian3.fromDegrees(lon, lat, height);
  scene.camera.lookAt(
    target,
    new Cesium.HeadingPitchRange(Cesium.Math.toRadians(headingDeg), Cesium.Math.toRadians(pitchDeg), range),
  );
  scene.camera.lookAtTransform(Cesium.Matrix4.IDENTITY);
  return state.frames;
};

state.toWindow = (lon, lat, height) => {
  const p = Cesium.SceneTransforms.worldToWindowCoordinates(scene, Cesium.Cartesian3.fromDegrees(lon, lat, height));
  return p === undefined ? null : [p.x, p.y];
};

state.pick = (x, y) => describe(scene.pick(new Cesium.Cartesian2(x, y)));

// Where the depth buffer says the surface under a window position is: [lon, lat, height above the ellipsoid].
state.pickPosition = (x, y) => {
  const p = scene.pickPosition(new Cesium.Cartesian2(x, y));
  if (p === undefined) {
    return null;
  }
  const c = Cesium.Cartographic.fromCartesian(p);
  return [Cesium.Math.toDegrees(c.longitude), Cesium.Math.toDegrees(c.latitude), c.height];
};

state.showTileset = (show) => {
  state.tileset.show = show;
  return state.frames;
};

const handler = new Cesium.ScreenSpaceEventHandler(scene.canvas);
handler.setInputAction((click) => {
  state.clicks += 1;
  state.picked = describe(scene.pick(click.position));
}, Cesium.ScreenSpaceEventType.LEFT_CLICK);

const url = new URLSearchParams(location.search).get("tileset");
try {
  const tileset = await Cesium.Cesium3DTileset.fromUrl(url);
  tileset.tileFailed.addEventListener((failure) => {
    state.tileFailures.push({ url: failure.url, message: String(failure.message) });
    console.error(`tile failed: ${failure.url}: ${failure.message}`);
  });
  tileset.allTilesLoaded.addEventListener(() => {
    state.allTilesLoadedEvents += 1;
  });
  scene.primitives.add(tileset);
  state.tileset = tileset;
  state.tilesetReady = true;
} catch (error) {
  console.error(`tileset failed: ${error}`);
}
