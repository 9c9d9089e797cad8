package schemas

// The App Home tab and modals (see README "App Home and workspace settings").

// SlackHome is app_home_opened (slack.home.v1): the user opened one of
// Maria's App Home tabs.
type SlackHome struct {
	EventID string `json:"event_id,omitempty"`
	// Tab is "home" or "messages".
	Tab string `json:"tab,omitempty"`
	// DMChannel is the user's direct message channel with Maria.
	DMChannel string `json:"dm_channel,omitempty"`
	// ViewID is the Home view already published, if any.
	ViewID string `json:"view_id,omitempty"`
}

// SlackView is a view_submission (slack.view.v1): the user submitted a
// modal. Ingress answers Slack with an empty 200 (the modal closes) before
// any processor sees it, inside Slack's 3 seconds.
type SlackView struct {
	ViewID     string `json:"view_id"`
	CallbackID string `json:"callback_id"`
	// PrivateMetadata is what the opener put in the view.
	PrivateMetadata string `json:"private_metadata,omitempty"`
	TriggerID       string `json:"trigger_id,omitempty"`
	// Values are the inputs: block_id → action_id → value.
	Values map[string]map[string]ViewValue `json:"values,omitempty"`
}

// ViewValue is one input of a submitted modal: Value for text inputs,
// Selected for checkboxes and multi-selects (option values).
type ViewValue struct {
	Value    string   `json:"value,omitempty"`
	Selected []string `json:"selected,omitempty"`
}

// OutViewPublish publishes a user's Home tab (out.view.publish.v1,
// views.publish). View is Block Kit JSON of type "home". The envelope's
// channel is the user id: egress keeps one user's views in order.
type OutViewPublish struct {
	User string         `json:"user"`
	View map[string]any `json:"view"`
}

// OutViewOpen opens a modal (out.view.open.v1, views.open). TriggerID comes
// from the click that asked for it and lives 3 seconds at Slack.
type OutViewOpen struct {
	TriggerID string         `json:"trigger_id"`
	View      map[string]any `json:"view"`
}

// SlackViewID is the envelope id of a view_submission: one event per
// submission (a modal submitted again has a new trigger id).
func SlackViewID(team, user, viewID, triggerID string) string {
	return StableID("slack-view", team, user, viewID, triggerID)
}
