import maplibregl from 'maplibre-gl';

// The layer groups doc.go promises, bottom to top, each a GeoJSON source of
// its own name drawn by <group>-fill, <group>-line and <group>-point layers.
export const layerGroups = ['context', 'deleted', 'modified-old', 'modified-new', 'created'];

const groupStyles = {
  context: { color: '#8c8c8c', width: 1, radius: 3, fillOpacity: 0.08 },
  deleted: { color: '#d7191c', width: 3, radius: 6, fillOpacity: 0.1, dashed: true },
  'modified-old': { color: '#e08214', width: 3, radius: 6, fillOpacity: 0.1, dashed: true },
  'modified-new': { color: '#2c7bb6', width: 3, radius: 5, fillOpacity: 0.2 },
  created: { color: '#1a9641', width: 3, radius: 5, fillOpacity: 0.25 },
};

export function groupColor(group) {
  return groupStyles[group].color;
}

const lineTypes = ['LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'];
const fillTypes = ['Polygon', 'MultiPolygon'];
const pointTypes = ['Point', 'MultiPoint'];

function geometryIn(types) {
  return ['match', ['geometry-type'], types, true, false];
}

/**
 * The style: a raster basemap when the server has one, otherwise a plain
 * background, defined here so that the page makes no request elsewhere and
 * works offline (no glyphs or sprites, hence no symbol layers).
 */
function baseStyle({ basemap, attribution }) {
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#f4f1ea' } }],
  };
  if (basemap) {
    style.sources.basemap = { type: 'raster', tiles: [basemap], tileSize: 256, maxzoom: 19, attribution: attribution || '' };
    style.layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-saturation': -0.6 } });
  }
  return style;
}

function addGroupLayers(map, group) {
  const { color, width, radius, fillOpacity, dashed } = groupStyles[group];
  map.addSource(group, { type: 'geojson', data: emptyCollection() });
  map.addLayer({
    id: `${group}-fill`,
    type: 'fill',
    source: group,
    filter: geometryIn(fillTypes),
    paint: { 'fill-color': color, 'fill-opacity': fillOpacity },
  });
  map.addLayer({
    id: `${group}-line`,
    type: 'line',
    source: group,
    filter: geometryIn(lineTypes),
    layout: { 'line-cap': dashed ? 'butt' : 'round', 'line-join': 'round' },
    paint: { 'line-color': color, 'line-width': width, ...(dashed ? { 'line-dasharray': [2, 1.5] } : {}) },
  });
  map.addLayer({
    id: `${group}-point`,
    type: 'circle',
    source: group,
    filter: geometryIn(pointTypes),
    paint: dashed
      ? // A removed node is a ring: the hole says it is gone.
        { 'circle-radius': radius, 'circle-color': '#ffffff', 'circle-opacity': 0.6, 'circle-stroke-color': color, 'circle-stroke-width': 3 }
      : group === 'context'
        ? { 'circle-radius': radius, 'circle-color': color }
        : { 'circle-radius': radius, 'circle-color': color, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5 },
  });
}

function emptyCollection() {
  return { type: 'FeatureCollection', features: [] };
}

/**
 * Which group draws each side of each element: a creation's new version, a
 * modification's old and new, a deletion's old. Relations' geometry
 * collections are split into plain features so the fill, line and point
 * layers each find their own kind.
 */
export function featureGroups(detail) {
  const groups = Object.fromEntries(layerGroups.map((group) => [group, []]));
  for (const element of detail.elements ?? []) {
    if (element.action === 'create') pushFeature(groups.created, element.new);
    else if (element.action === 'delete') pushFeature(groups.deleted, element.old);
    else {
      pushFeature(groups['modified-old'], element.old);
      pushFeature(groups['modified-new'], element.new);
    }
  }
  for (const feature of detail.context?.features ?? []) pushFeature(groups.context, feature);
  return groups;
}

function pushFeature(list, feature) {
  if (!feature?.geometry) return;
  if (feature.geometry.type !== 'GeometryCollection') {
    list.push(flatProperties(feature));
    return;
  }
  for (const geometry of feature.geometry.geometries ?? []) {
    pushFeature(list, { ...feature, geometry });
  }
}

// Rendered features carry only scalar properties; the tags stay readable as JSON.
function flatProperties(feature) {
  const { tags, ...rest } = feature.properties ?? {};
  return { type: 'Feature', geometry: feature.geometry, properties: { ...rest, tags: JSON.stringify(tags ?? {}) } };
}

/** [minlon, minlat, maxlon, maxlat] of features, or null when none has a position. */
export function boundsOf(features) {
  let bounds = null;
  const visit = (coordinates) => {
    if (typeof coordinates[0] === 'number') {
      const [lon, lat] = coordinates;
      bounds = bounds
        ? [Math.min(bounds[0], lon), Math.min(bounds[1], lat), Math.max(bounds[2], lon), Math.max(bounds[3], lat)]
        : [lon, lat, lon, lat];
    } else coordinates.forEach(visit);
  };
  for (const feature of features) {
    if (feature?.geometry?.coordinates) visit(feature.geometry.coordinates);
    for (const geometry of feature?.geometry?.geometries ?? []) visit(geometry.coordinates ?? []);
  }
  return bounds;
}

function union(a, b) {
  if (!a || !b) return a ?? b;
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

// fitBounds of a single point would zoom without end; give it a few metres.
function padded([minLon, minLat, maxLon, maxLat]) {
  const margin = 0.0005;
  if (maxLon - minLon < margin && maxLat - minLat < margin) {
    return [minLon - margin, minLat - margin, maxLon + margin, maxLat + margin];
  }
  return [minLon, minLat, maxLon, maxLat];
}

const fitOptions = { padding: 40, maxZoom: 18 };

/**
 * The changeset's map. onReady runs at the map's first idle after each call
 * to show(), which is when the data is drawn.
 */
export function createReviewMap(container, config, { onReady, onError }) {
  const map = new maplibregl.Map({
    container,
    style: baseStyle(config ?? {}),
    center: [0, 0],
    zoom: 1,
    attributionControl: config?.basemap ? { compact: true } : false,
    // Keeps the drawn frame readable for screenshots of the page.
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
  map.on('error', (event) => onError?.(event.error));

  const loaded = new Promise((resolve) => map.once('load', resolve)).then(() => {
    for (const group of layerGroups) addGroupLayers(map, group);
  });

  return {
    map,
    /** Draws detail's elements and context, fitting the view when fit is set. */
    async show(detail, { fit }) {
      await loaded;
      const groups = featureGroups(detail);
      for (const group of layerGroups) map.getSource(group).setData({ type: 'FeatureCollection', features: groups[group] });
      if (fit) {
        const own = layerGroups.filter((group) => group !== 'context').flatMap((group) => groups[group]);
        // The changeset's bbox, widened to anything of its own outside it (an
        // old position the bbox may leave out), so every side is in view.
        const bounds = union(detail.changeset?.bbox ?? null, boundsOf(own)) ?? boundsOf(groups.context);
        if (bounds) map.fitBounds(padded(bounds), { ...fitOptions, animate: false });
      }
      map.once('idle', () => onReady?.());
    },
    /** Fits the view to the features whose key is in keys; false when none has a geometry. */
    fitTo(detail, keys) {
      const wanted = new Set(keys);
      const features = [];
      for (const element of detail.elements ?? []) {
        if (wanted.has(element.key)) features.push(element.new, element.old, element.current);
      }
      for (const feature of detail.context?.features ?? []) {
        if (wanted.has(feature.properties?.key)) features.push(feature);
      }
      const bounds = boundsOf(features.filter(Boolean));
      if (!bounds) return false;
      map.fitBounds(padded(bounds), fitOptions);
      return true;
    },
    remove() {
      map.remove();
    },
  };
}
