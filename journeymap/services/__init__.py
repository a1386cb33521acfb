"""One function per user action, between the pages and the store.

Each service takes the database engine and the acting person (:class:`journeymap.access.Actor`)
first, then keyword arguments. It checks the permission before anything else, owns exactly one
transaction, and either does all of its work or none (see :mod:`journeymap.services._core`).
Pages and ``journeymap.ui`` call services only; they open no database session themselves.

Example::

    from journeymap import services
    revision = services.maps.save_revision(engine, actor, map_id=3, journey_map=m, base_revision_id=9)
"""

from journeymap.services._core import SERVICES, MapLocked, ServiceInfo, check, service

__all__ = ["SERVICES", "MapLocked", "ServiceInfo", "check", "service"]
