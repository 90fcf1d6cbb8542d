package validate

// defaultDeprecatedTable is a subset of iD's deprecated tagging
// (openstreetmap/id-tagging-schema, data/deprecated.json): entries common
// in real data or easy to type by mistake, with iD's replacements. The
// full table has several hundred entries; a dataset that wants them sets
// rules.deprecated_tag.table.
func defaultDeprecatedTable() []DeprecatedTagging {
	one := func(oldKey, oldValue string, replace ...string) DeprecatedTagging {
		d := DeprecatedTagging{Old: map[string]string{oldKey: oldValue}}
		if len(replace) > 0 {
			d.Replace = map[string]string{}
			for i := 0; i+1 < len(replace); i += 2 {
				d.Replace[replace[i]] = replace[i+1]
			}
		}
		return d
	}
	return []DeprecatedTagging{
		one("access", "customer", "access", "customers"),
		one("access", "public", "access", "yes"),
		one("aerialway", "canopy", "aerialway", "zip_line"),
		one("amenity", "artwork", "tourism", "artwork"),
		one("amenity", "car_repair", "shop", "car_repair"),
		one("amenity", "community_center", "amenity", "community_centre"),
		one("amenity", "embassy", "office", "diplomatic"),
		one("amenity", "ev_charging", "amenity", "charging_station"),
		one("amenity", "fire_hydrant", "emergency", "fire_hydrant"),
		one("amenity", "gym", "leisure", "fitness_centre"),
		one("amenity", "hotel", "tourism", "hotel"),
		one("amenity", "kiosk", "shop", "kiosk"),
		one("amenity", "nursery", "amenity", "kindergarten"),
		one("amenity", "public_building", "building", "public"),
		one("amenity", "swimming_pool", "leisure", "swimming_pool"),
		one("amenity", "toilet", "amenity", "toilets"),
		one("barrier", "curb", "barrier", "kerb"),
		one("barrier", "wire_fence", "barrier", "fence", "fence_type", "wire"),
		one("bridge", "1", "bridge", "yes"),
		one("building", "apartment", "building", "apartments"),
		one("building", "offices", "building", "office"),
		one("color", "*", "colour", "$1"),
		one("crossing", "traffic_lights", "crossing", "traffic_signals"),
		one("curb", "*", "kerb", "$1"),
		one("fee", "free", "fee", "no"),
		one("FIXME", "*", "fixme", "$1"),
		one("highway", "ford", "ford", "*"),
		one("highway", "stile", "barrier", "stile"),
		one("internet_access", "wifi", "internet_access", "wlan"),
		one("landuse", "field", "landuse", "farmland"),
		one("landuse", "reservoir", "natural", "water", "water", "reservoir"),
		one("landuse", "wood", "natural", "wood"),
		one("leisure", "beach", "natural", "beach"),
		one("man_made", "well", "man_made", "water_well"),
		one("natural", "marsh", "natural", "wetland", "wetland", "marsh"),
		one("oneway", "1", "oneway", "yes"),
		one("postcode", "*", "addr:postcode", "$1"),
		one("power", "sub_station", "power", "substation"),
		one("religion", "catholic", "religion", "christian", "denomination", "catholic"),
		one("shop", "antique", "shop", "antiques"),
		one("shop", "boutique", "shop", "clothes"),
		one("content", "unknown"),
	}
}
