// Package signaling describes the part of the Agora Signaling (RTM 2.x) SDK
// surface that tokenkeeper speaks: the adapter interfaces an application
// implements around its SDK binding, and the link-state enums and events with
// the SDK's own numeric values.
//
// The package imports no SDK. An application writes a thin adapter that turns
// each interface method into the matching SDK call and waits for the SDK's
// result callback (login result, renew result, join result), and converts the
// SDK's link-state callback into a [LinkStateEvent].
//
// # Numeric values
//
// Every enum carries the native ABI value of the SDK (RTM_LINK_STATE,
// RTM_SERVICE_TYPE, RTM_LINK_OPERATION, RTM_LINK_STATE_CHANGE_REASON,
// RTM_ERROR_CODE), so an adapter converts with a plain integer conversion.
// Decisions are made on codes, never on the free-text reason, whose wording
// differs between SDKs ("Token expired", "Ticket expired").
package signaling
