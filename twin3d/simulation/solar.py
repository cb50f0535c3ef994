"""Where the sun stands: azimuth and elevation for a place and times, vectorised over the times.

The NOAA solar calculator's equations (Meeus' low-precision formulae: the sun's mean longitude and anomaly, the
equation of centre, the obliquity of the ecliptic, the equation of time), good to about 0.01 degrees in elevation
between 1900 and 2100: far below what a building's outline or a 10-minute step matter. Atmospheric refraction near
the horizon is added (NOAA's approximation), since shadows are long when the sun is low.

Azimuth is in degrees clockwise from north; elevation in degrees above the horizon. Local times are wall-clock
times of a time zone (``Europe/Berlin`` by default): a planner asks for "21 March, 15:00", not for UTC.

Example:
    >>> from datetime import datetime, timezone
    >>> azimuth, elevation = solar_position(np.array([datetime(2026, 6, 21, 11, 17, tzinfo=timezone.utc)]),
    ...                                     lon=11.28, lat=49.51)
    >>> round(float(azimuth[0])), round(float(elevation[0]))  # Lauf at local solar noon on midsummer's day
    (180, 64)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

TOWN_ZONE = "Europe/Berlin"
"""The time zone of a German twin's wall clocks."""


def _julian_centuries(utc_seconds: np.ndarray) -> np.ndarray:
    """Julian centuries since J2000.0 of POSIX seconds (UTC)."""
    julian_day = utc_seconds / 86_400.0 + 2_440_587.5
    centuries: np.ndarray = (julian_day - 2_451_545.0) / 36_525.0
    return centuries


def _refraction(elevation: np.ndarray) -> np.ndarray:
    """Atmospheric refraction in degrees at a true elevation (NOAA's piecewise approximation)."""
    e = np.radians(elevation)
    tan_e = np.tan(np.where(np.abs(elevation) < 1e-6, 1e-6, e))
    arcsec = np.select(
        [elevation > 85.0, elevation > 5.0, elevation > -0.575],
        [
            np.zeros_like(elevation),
            58.1 / tan_e - 0.07 / tan_e**3 + 0.000086 / tan_e**5,
            1735.0 + elevation * (-518.2 + elevation * (103.4 + elevation * (-12.79 + elevation * 0.711))),
        ],
        default=-20.772 / tan_e,
    )
    refraction: np.ndarray = arcsec / 3600.0
    return refraction


def solar_position(times: Sequence[datetime] | np.ndarray, *, lon: float, lat: float) -> tuple[np.ndarray, np.ndarray]:
    """The sun's azimuth and apparent elevation at ``times`` (aware datetimes) seen from ``lon``/``lat`` (WGS 84).

    Returns:
        float64 arrays (times,): azimuth in degrees clockwise from north (0..360), elevation in degrees (refraction
        included; negative below the horizon).

    Raises:
        ValueError: a naive datetime (its time zone is unknown).
    """
    if any(t.tzinfo is None for t in times):
        raise ValueError("solar_position needs aware datetimes: give each a tzinfo (e.g. ZoneInfo('Europe/Berlin'))")
    seconds = np.array([t.timestamp() for t in times], np.float64)
    t = _julian_centuries(seconds)
    mean_lon = np.mod(280.46646 + t * (36_000.76983 + t * 0.0003032), 360.0)
    mean_anomaly = 357.52911 + t * (35_999.05029 - 0.0001537 * t)
    eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    m = np.radians(mean_anomaly)
    centre = (
        np.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + np.sin(2 * m) * (0.019993 - 0.000101 * t)
        + np.sin(3 * m) * 0.000289
    )
    omega = np.radians(125.04 - 1934.136 * t)
    apparent_lon = np.radians(mean_lon + centre - 0.00569 - 0.00478 * np.sin(omega))
    mean_obliquity = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0
    obliquity = np.radians(mean_obliquity + 0.00256 * np.cos(omega))
    declination = np.arcsin(np.sin(obliquity) * np.sin(apparent_lon))
    y = np.tan(obliquity / 2) ** 2
    l0 = np.radians(mean_lon)
    equation_of_time = 4.0 * np.degrees(
        y * np.sin(2 * l0)
        - 2 * eccentricity * np.sin(m)
        + 4 * eccentricity * y * np.sin(m) * np.cos(2 * l0)
        - 0.5 * y * y * np.sin(4 * l0)
        - 1.25 * eccentricity * eccentricity * np.sin(2 * m)
    )  # minutes
    utc_minutes = np.mod(seconds, 86_400.0) / 60.0
    true_solar_minutes = np.mod(utc_minutes + equation_of_time + 4.0 * lon, 1440.0)
    hour_angle = np.radians(true_solar_minutes / 4.0 - 180.0)
    phi = np.radians(lat)
    cos_zenith = np.clip(
        np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(hour_angle), -1.0, 1.0
    )
    zenith = np.arccos(cos_zenith)
    elevation = 90.0 - np.degrees(zenith)
    azimuth = np.mod(
        np.degrees(
            np.arctan2(
                np.sin(hour_angle),
                np.cos(hour_angle) * np.sin(phi) - np.tan(declination) * np.cos(phi),
            )
        )
        + 180.0,
        360.0,
    )
    return azimuth, elevation + _refraction(elevation)


def day_times(day: date, *, step_minutes: float = 10.0, zone: str = TOWN_ZONE) -> list[datetime]:
    """Aware wall-clock times over a whole local day, every ``step_minutes`` from 00:00 (each the middle of its
    step, so the steps' durations sum to the day)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0, 0), tzinfo=tz)
    steps = round(24 * 60 / step_minutes)
    return [start + timedelta(minutes=step_minutes * (k + 0.5)) for k in range(steps)]


def sun_vector(azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """float64 (n, 3): unit vectors toward the sun in east, north, up."""
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.column_stack([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)])
