"""Dataset profiles: the compact summary of a data set that services share instead of the data.

Foundation, not a service: the registry profiles training data when a version is
registered, monitoring compares windows with the stored profile, and neither has to
import the other for it. ``columns`` reads one column of a frame or an Arrow table;
``dataset`` holds the profile and its stored format.
"""
