package engine

import (
	"encoding/json"
	"maps"
)

// forecastDayJSON is a ForecastDay as JSON: the owners by their tag's
// value, and the part without an owner tag as noOwner, never an owner "".
type forecastDayJSON struct {
	forecastDayFields
	NoOwner *ForecastOwner `json:"noOwner,omitempty"`
}

// forecastDayFields is ForecastDay without its JSON methods.
type forecastDayFields ForecastDay

// MarshalJSON writes the part of the day without an owner tag as noOwner.
func (d ForecastDay) MarshalJSON() ([]byte, error) {
	out := forecastDayJSON{forecastDayFields: forecastDayFields(d)}
	if o, ok := d.Owners[""]; ok {
		out.Owners = maps.Clone(d.Owners)
		delete(out.Owners, "")
		out.NoOwner = o
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *ForecastDay) UnmarshalJSON(b []byte) error {
	var in forecastDayJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*d = ForecastDay(in.forecastDayFields)
	if in.NoOwner != nil {
		if d.Owners == nil {
			d.Owners = map[string]*ForecastOwner{}
		}
		d.Owners[""] = in.NoOwner
	}
	return nil
}
