"""Messages of documents, incidents, AML and disputes, in Kazakh, Russian and English (see messages.py)."""

from __future__ import annotations

from collections.abc import Mapping

from oson_operator.domain.messages import Language


def _m(kk: str, ru: str, en: str) -> Mapping[Language, str]:
    return {"kk": kk, "ru": ru, "en": en}


CATALOG: Mapping[str, Mapping[Language, str]] = {
    # Electronic documents (§14.1(10), §VII).
    "DOCUMENT_UNSIGNED": _m(
        "Құжатқа қолтаңба қоса берілмеген; құжат қабылданбады және тіркелді",
        "К документу не приложена подпись; документ отклонён и зарегистрирован",
        "The document has no signature; it is refused and recorded"),
    "DOCUMENT_SIGNER_UNKNOWN": _m(
        "Қол қоюшының кілті тіркелмеген ({counterparty}); құжат қабылданбады және тіркелді",
        "Ключ подписанта не зарегистрирован ({counterparty}); документ отклонён и зарегистрирован",
        "No registered key of the signer ({counterparty}); the document is refused and recorded"),
    "DOCUMENT_SIGNER_KEY_NOT_VALID": _m(
        "Құжатқа қайтарылған немесе мерзімі өткен кілтпен қол қойылған; құжат қабылданбады",
        "Документ подписан отозванным или просроченным ключом; документ отклонён",
        "The document is signed with a revoked or expired key; it is refused"),
    "DOCUMENT_SIGNATURE_INVALID": _m(
        "Қолтаңба құжатқа сәйкес келмейді (құжат өзгертілген болуы мүмкін); құжат қабылданбады және тіркелді",
        "Подпись не соответствует документу (документ мог быть изменён); документ отклонён и зарегистрирован",
        "The signature does not match the document (it may have been altered); it is refused and recorded"),
    "DOCUMENT_SIGNING_KEY_MISSING": _m(
        "Құжаттарға қол қою кілті бапталмаған: OSON_DOCUMENT_SIGNING_KEY_FILE орнатыңыз",
        "Ключ подписи документов не настроен: задайте OSON_DOCUMENT_SIGNING_KEY_FILE",
        "No document signing key is configured: set OSON_DOCUMENT_SIGNING_KEY_FILE"),
    "DOCUMENT_SIGNING_KEY_UNUSABLE": _m(
        "Құжаттарға қол қою кілтін оқу мүмкін емес: OSON_DOCUMENT_SIGNING_KEY_FILE файлын тексеріңіз",
        "Ключ подписи документов не читается: проверьте файл OSON_DOCUMENT_SIGNING_KEY_FILE",
        "The document signing key cannot be read: check the OSON_DOCUMENT_SIGNING_KEY_FILE file"),
    "DOCUMENT_KEY_INVALID": _m(
        "Кілт немесе сертификат жарамсыз: {reason}",
        "Ключ или сертификат непригоден: {reason}",
        "The key or certificate cannot be used: {reason}"),
    "DOCUMENT_KEY_PERIOD_INVALID": _m(
        "Кілттің жарамдылық мерзімі басталуы аяқталуынан бұрын болуы керек",
        "Начало срока действия ключа должно быть раньше его окончания",
        "The key's validity must start before it ends"),
    "DOCUMENT_KEY_EXISTS": _m(
        "Бұл кілт тіркелген ({fingerprint})",
        "Этот ключ уже зарегистрирован ({fingerprint})",
        "This key is registered already ({fingerprint})"),
    "DOCUMENT_KEY_NOT_FOUND": _m("Кілт табылмады", "Ключ не найден", "Key not found"),
    "DOCUMENT_KEY_ALREADY_REVOKED": _m("Кілт бұрын қайтарылған", "Ключ уже отозван", "The key is revoked already"),
    "DOCUMENT_BASE64_INVALID": _m(
        "Файл base64 түрінде берілмеген", "Файл передан не в base64", "The file is not valid base64"),
    "DOCUMENT_TOO_LARGE": _m(
        "Файл {mib} МиБ-тан үлкен", "Файл больше {mib} МиБ", "The file is larger than {mib} MiB"),
    "DOCUMENT_NOT_FOUND": _m("Құжат табылмады", "Документ не найден", "Document not found"),
    "DOCUMENT_DELETED": _m(
        "Құжат файлы сақтау мерзімі өткеннен кейін жойылған; оның жазбасы сақталады",
        "Файл документа удалён после срока хранения; запись о нём сохранена",
        "The document's file was deleted after its retention period; its record is kept"),
    "DOCUMENT_SIGNATURE_ABSENT": _m(
        "Бұл құжаттың қолтаңбасы жоқ", "У этого документа нет подписи", "This document has no signature"),
    "DOCUMENT_RETAINED": _m(
        "Құжат {retain_until} дейін сақталады (кемінде 5 жыл, §7.5); жоюға болмайды",
        "Документ хранится до {retain_until} (не менее 5 лет, §7.5); удаление запрещено",
        "The document is kept until {retain_until} (at least 5 years, §7.5); it cannot be deleted"),
    "DOCUMENT_ALREADY_DELETED": _m(
        "Құжат файлы бұрын жойылған", "Файл документа уже удалён", "The document's file is deleted already"),
    # Information-security incidents (§13.5-13.11).
    "INCIDENT_NOT_FOUND": _m("Инцидент табылмады", "Инцидент не найден", "Incident not found"),
    "INCIDENT_DETECTED_IN_FUTURE": _m(
        "Анықталған уақыты болашақта болмауы керек", "Время обнаружения не может быть в будущем",
        "The detection time cannot be in the future"),
    "INCIDENT_CLOSED": _m("Инцидент жабылған", "Инцидент закрыт", "The incident is closed"),
    "INCIDENT_NOT_REPORTABLE": _m(
        "Бұл санаттағы инцидент Ұлттық Банкке хабарланбайды (§13.9)",
        "Инцидент этой категории не сообщается в Национальный Банк (§13.9)",
        "Incidents of this category are not reported to the National Bank (§13.9)"),
    "INCIDENT_ALREADY_REPORTED": _m(
        "Инцидент Ұлттық Банкке хабарланған", "Инцидент уже сообщён в Национальный Банк",
        "The incident has been reported to the National Bank already"),
    "INCIDENT_CATEGORY_UNCHANGED": _m(
        "Санат өзгермеді", "Категория не изменилась", "The category is the same"),
    "INCIDENT_STATUS_BACKWARDS": _m(
        "Мәртебе тек алға жылжиды ({current} → {target} мүмкін емес)",
        "Статус меняется только вперёд ({current} → {target} невозможно)",
        "The status only moves forward ({current} to {target} is not possible)"),
    "INCIDENT_CLOSE_NEEDS_PLAN": _m(
        "Жабу алдында жедел шаралар жоспарын енгізіңіз (§13.7)",
        "Перед закрытием внесите план срочных мер (§13.7)",
        "Set the urgent response plan before closing (§13.7)"),
    "INCIDENT_CLOSE_NEEDS_NBK_REPORT": _m(
        "Жабу алдында Ұлттық Банкке карточка жіберілгенін тіркеңіз (§13.10)",
        "Перед закрытием отметьте отправку карточки в Национальный Банк (§13.10)",
        "Record the card sent to the National Bank before closing (§13.10)"),
    # AML/CFT (§XVI).
    "WALLET_FROZEN_AML": _m(
        "Әмиян КЖ/ТҚ бойынша тоқтатылған: шығыс операцияларына тыйым салынған, кіріс түсімдер қабылданады",
        "Кошелёк приостановлен по ПОД/ФТ: расходные операции запрещены, зачисления принимаются",
        "The wallet is frozen under AML/CFT rules: debits are refused, credits are still accepted"),
    "AML_LIST_INVALID": _m(
        "Тізім файлын оқу мүмкін емес: {reason}", "Файл перечня не читается: {reason}",
        "The list file cannot be read: {reason}"),
    "AML_LIST_MISSING": _m(
        "Тізім әлі импортталмаған: алдымен POST /api/aml/lists арқылы жүктеңіз",
        "Перечень ещё не импортирован: сначала загрузите его через POST /api/aml/lists",
        "No list has been imported: import one with POST /api/aml/lists first"),
    "AML_RANGE_INVALID": _m(
        "Кезеңнің басы соңынан бұрын болуы керек", "Начало периода должно быть раньше конца",
        "The period must start before it ends"),
    "AML_CASE_NOT_FOUND": _m("Іс табылмады", "Дело не найдено", "Case not found"),
    "AML_CASE_STATUS": _m(
        "Бұл әрекет {status} мәртебесіндегі іс үшін мүмкін емес",
        "Это действие невозможно для дела в статусе {status}",
        "This step is not possible for a case in status {status}"),
    "AML_CASE_IN_FORCE": _m(
        "Қатысушы бойынша қолданыстағы іс бар (тоқтатылған немесе бақылауда)",
        "По участнику уже есть действующее дело (приостановлен или на контроле)",
        "The participant already has a case in force (frozen or under control)"),
    "AML_REPORT_NOT_FOUND": _m("Хабарлама табылмады", "Сообщение не найдено", "Report not found"),
    "AML_REPORT_ALREADY_SENT": _m(
        "Хабарлама бұрын жіберілген", "Сообщение уже отправлено", "The report has been sent already"),
    # Disputes (§XVIII).
    "DISPUTE_NOT_FOUND": _m("Өтініш табылмады", "Обращение не найдено", "Claim not found"),
    "DISPUTE_RECEIVED_IN_FUTURE": _m(
        "Алынған уақыты болашақта болмауы керек", "Время получения не может быть в будущем",
        "The time of receipt cannot be in the future"),
    "DISPUTE_PARTICIPANT_UNKNOWN": _m(
        "Қатысушы табылмады ({id})", "Участник не найден ({id})", "Participant not found ({id})"),
    "DISPUTE_OPERATION_UNKNOWN": _m(
        "Операция табылмады ({id})", "Операция не найдена ({id})", "Operation not found ({id})"),
    "DISPUTE_STATUS": _m(
        "{current} мәртебесінен {target} мәртебесіне өту мүмкін емес",
        "Переход из статуса {current} в {target} невозможен",
        "A claim cannot go from {current} to {target}"),
    "DISPUTE_ANSWER_REQUIRED": _m(
        "Жазбаша жауаптың мәтінін енгізіңіз (§18.6)", "Введите текст письменного ответа (§18.6)",
        "Enter the text of the written answer (§18.6)"),
}
