//go:build !race

package accesstoken

const raceEnabled = false
