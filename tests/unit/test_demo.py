"""The demo workspace: templates as maps and a retail maturity baseline and follow-up."""

from datetime import date
from pathlib import Path

from sqlmodel import Session

from journeymap.demo import seed_demo
from journeymap.maturity import current_levels, load_builtin_framework, score_dimensions
from journeymap.store import init_db, list_maps, make_engine
from journeymap.store.assessments import list_answers, list_assessments
from journeymap.templates import list_templates


def test_seed_demo_saves_templates_and_two_assessments_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    init_db(engine)
    with Session(engine) as session:
        created = seed_demo(session)
        session.commit()
        assert seed_demo(session) == []  # a second start changes nothing
        assert sorted(m.name for m in list_maps(session=session)) == sorted(t.name for t in list_templates())
        assert len(created) == 5
        assessments = sorted(list_assessments(session=session), key=lambda a: a.assessed_on)
        assert [(a.name, a.business_unit) for a in assessments] == [
            ("Retail baseline", "Retail"),
            ("Retail follow-up", "Retail"),
        ]
        assert assessments[1].assessed_on == date.today()
        assert (assessments[1].assessed_on - assessments[0].assessed_on).days == 182
        answers = list_answers(session=session, assessment_id=assessments[1].id)
    framework = load_builtin_framework()
    assert len(answers) == 2 * len(framework.question_ids)
    levels = current_levels(score_dimensions(framework, answers))
    assert levels == {
        "customer_focus": 3.0,
        "data_integration": 3.0,
        "ownership": 2.0,
        "channel_switching": 3.0,
        "identity_resolution": 2.5,
        "branding": 3.5,
        "employee_empowerment": 2.5,
        "personalization": 2.0,
        "measurement": 2.5,
    }
