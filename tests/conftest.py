from hypothesis import HealthCheck, settings

settings.register_profile("tape", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tape")
