// Every user-facing string of the viewer in German and English: one table per part of the viewer, each a module
// that exports `{ de: {...}, en: {...} }` and imports nothing, so that i18n.js registers them all at start and
// `npm test` (test/i18n.test.mjs) can check in Node that both languages have the same keys.
// To add a part: create strings/<part>.js and list it here.

import core from "./core.js";
import population from "./population.js";
import scenario from "./scenario.js";
import basemap from "./basemap.js";
import floodTool from "./flood_tool.js";
import forMePanel from "./for_me_panel.js";
import layerUpload from "./layer_upload.js";
import measure from "./measure.js";
import names from "./names.js";
import parcels from "./parcels.js";
import places from "./places.js";
import planningResults from "./planning_results.js";
import proposals from "./proposals.js";
import scenarioBuildings from "./scenario_buildings.js";
import scenarioInfill from "./scenario_infill.js";
import scenarioLibrary from "./scenario_library.js";
import scenarioPlanningTools from "./scenario_planning_tools.js";
import scenarioResults from "./scenario_results.js";
import search from "./search.js";
import serviceLayers from "./service_layers.js";
import sunTool from "./sun_tool.js";
import surveyPanel from "./survey_panel.js";
import swipe from "./swipe.js";
import phone from "./phone.js";
import timeline from "./timeline.js";
import info from "./info.js";
import share from "./share.js";

export const TABLES = [
  core,
  population,
  scenario,
  basemap,
  floodTool,
  forMePanel,
  layerUpload,
  measure,
  names,
  parcels,
  places,
  planningResults,
  proposals,
  scenarioBuildings,
  scenarioInfill,
  scenarioLibrary,
  scenarioPlanningTools,
  scenarioResults,
  search,
  serviceLayers,
  sunTool,
  surveyPanel,
  swipe,
  phone,
  timeline,
  info,
  share,
];
